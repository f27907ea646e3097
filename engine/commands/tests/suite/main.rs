//! wharf-commands' integration tests, in one binary: the exact shell and docker command strings
//! built from a configuration, mostly ports of Kamal's `test/commands/*_test.rb`.
//!
//! A new test goes in the module of the command class it checks (`Foo` in `foo_test.rs`); a new
//! command class gets its own `<name>_test.rs`, declared below. Configurations are loaded through
//! `common`. Run one module with `cargo test -p wharf-commands --test suite app_test::`.

/// Helpers: test configs as YAML/JSON loaded through wharf-config, fixed secrets and stamps.
mod common;

/// `Accessory`: run, start/stop, exec, logs and files of accessories (accessory_test.rb).
mod accessory_test;
/// `App`: the app containers' run, start/stop, exec, logs, images and maintenance (app_test.rb).
mod app_test;
/// `Auditor`: the audit log lines `record` writes (auditor_test.rb).
mod auditor_test;
/// `Builder`: buildx, remote and pack builds, cache, secrets, git clones (builder_test.rb).
mod builder_test;
/// `Docker`: installing docker, checking it runs, superuser and docker group (docker_test.rb).
mod docker_test;
/// `Hook`: hook commands, hooks path and their `KAMAL_*` environment (hook_test.rb).
mod hook_test;
/// Every command class against strings printed by Kamal 2.12's own Ruby for the same configs.
mod kamal_oracle_test;
/// `Lock`: acquiring, releasing and reading the deploy lock (lock_test.rb).
mod lock_test;
/// `Handover`: Wharf's zero-downtime proxy reboot (the handover container and iptables rules).
mod proxy_handover_test;
/// `Proxy`: kamal-proxy's run, start/stop, logs, boot options and image (proxy_test.rb).
mod proxy_test;
/// `Prune`: removing old images and containers (prune_test.rb).
mod prune_test;
/// `Registry`: `docker login`/`logout` (password on stdin), registry setup/remove (registry_test.rb).
mod registry_test;
/// `Server`: the run directory on each host (server_test.rb).
mod server_test;
