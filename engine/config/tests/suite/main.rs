//! wharf-config's integration tests, in one binary: deploy.yml loaded, validated and resolved as
//! Kamal's configuration classes do, mostly ports of Kamal's `test/configuration*_test.rb`.
//!
//! A new test goes in the module of the section it checks (`proxy:` in `proxy_test.rs`, a
//! validator message in `validation_test.rs`, files/ERB/destinations in `load_test.rs`); a
//! section without a module gets its own `<name>_test.rs`, declared below. Configurations are
//! built with `common`; data stays in `tests/kamal_outputs`. Run one module with
//! `cargo test -p wharf-config --test suite role_test::`.

/// Helpers: YAML parsing and merging, configs with fixed secrets, expected errors.
mod common;

/// `accessories:`: hosts, labels, env, volumes, files, options, network, proxy (accessory_test.rb).
mod accessory_test;
/// `builder:`: defaults, pack, local/remote, caches, secrets (builder_test.rb).
mod builder_test;
/// The whole configuration: required keys, service, roles and hosts, images, versions
/// (configuration_test.rb).
mod configuration_test;
/// `env:`: clear and secret values, escaping, tags (env_test.rb, env/tags_test.rb).
mod env_test;
/// `kamal config` output and errors compared with Kamal 2.12's own (`tests/kamal_outputs`).
mod kamal_outputs_test;
/// Loading files: ERB, destinations, missing files, YAML errors, aliases, every Kamal fixture.
mod load_test;
/// `proxy:`: SSL, certificates, boot and run, `kamal-proxy deploy` arguments (proxy_test.rb).
mod proxy_test;
/// `servers:` roles: hosts, cmd, labels, env and secrets per role, asset path (role_test.rb).
mod role_test;
/// `ssh:`, `sshkit:`, `boot:`, output and volumes (their Kamal *_test.rb files).
mod sections_test;
/// Kamal's validator: unknown keys, wrong types, and each section's messages (validation_test.rb).
mod validation_test;
