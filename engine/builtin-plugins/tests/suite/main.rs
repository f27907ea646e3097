//! The built-in plugins (plugins/builtin, embedded in the binary) run through the plugin host.
//! A new test goes into the module of its plugin kind; run one module with
//! `cargo test -p wharf-builtin-plugins --test suite adapters::`.

/// Each of Kamal's secrets adapters against a fake of its vendor CLI (calls, results, errors).
mod adapters;
/// The docker builder plugin: the commands it runs for buildx and the classic builder.
mod docker_builder;
