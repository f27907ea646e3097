//! Fast orchestration tests: Kamal's commands run against a scripted
//! [`FakeExecutor`](wharf_deploy::execution::FakeExecutor) instead of servers, in the spirit of
//! Kamal's test/cli (ported from basecamp/kamal's test/cli/*_test.rb). Each asserts the commands
//! sent to each host, in order where order matters, and the lines printed, failure paths
//! included. No root, no SSH, no docker: the whole binary runs in seconds.
//!
//! Where a new test goes: one module per Kamal command group, as in Kamal's test/cli.

mod harness;

mod accessory;
mod app;
mod build;
mod canary;
mod follow;
mod handover;
mod lock;
mod main_commands;
mod proxy;
mod prune;
mod secrets;
mod server;
mod upgrade;
mod warm;
