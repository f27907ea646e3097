//! What a run is doing, as events: the run and its phases (Kamal's step headers, "Pull app
//! image...", "Start container with version..."), each host's exchanges (a batch of commands, one
//! round trip), the deploy lock, hooks, health checks, warnings, the failure and how the run
//! ended. Three consumers read them: the JSON stream (`--output json`: one object per line on
//! stdout, schema in docs/events.md, versioned by [`SCHEMA_VERSION`]), the live progress view on
//! a terminal ([`crate::progress`]) and the summary at the end (time per phase and per server).
//!
//! Everything here is recorded whether or not anything reads it (it is cheap); what is written
//! depends on what [`start_run`] enabled. Commands are shown as `-v` shows them (secrets
//! redacted), and only in the stream when `-v` is given; command output never appears except in
//! a failure's diagnosis, redacted the same way.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The version of the stream's schema, in every event as `"schema"`. Adding an event or a field
/// keeps it; removing or changing the meaning of one bumps it.
pub const SCHEMA_VERSION: u32 = 1;

/// How a run's progress is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// Kamal's lines (and, on a terminal, the live view).
    #[default]
    Text,
    /// One JSON event per line on stdout; Kamal's lines go to stderr.
    Json,
}

/// A phase of a run, named from Kamal's header for it.
#[derive(Clone, Debug)]
struct Phase {
    id: String,
    started: Instant,
}

#[derive(Default)]
struct HostRecord {
    /// Time spent in exchanges (waiting on the host), per phase, in the order first started
    /// (exchanges in flight together each count towards their own phase).
    busy: Vec<(String, Duration)>,
    /// Time during which at least one exchange was in flight, and since when one has been.
    busy_in_all: Duration,
    busy_since: Option<Instant>,
    exchanges: u64,
    /// The exchanges in flight (the lock and the facts go alongside the pull): each one's
    /// token, phase and start.
    in_flight: Vec<(u64, String, Instant)>,
    failed: bool,
}

struct State {
    json: bool,
    verbose: bool,
    started: Instant,
    phase: Option<Phase>,
    /// Finished phases, in order (a phase seen twice adds up).
    phases: Vec<(String, Duration)>,
    hosts: BTreeMap<String, HostRecord>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> Option<T> {
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    guard.as_mut().map(f)
}

/// Whether the JSON stream is on (Kamal's lines then go to stderr).
pub fn json_enabled() -> bool {
    with_state(|s| s.json).unwrap_or(false)
}

/// Kamal's step headers and the phase each starts.
fn phase_of(header: &str) -> Option<&'static str> {
    let h = header.trim_end_matches("...");
    Some(match h {
        "Build and push app image" => "build",
        "Pull app image" => "pull",
        "Acquiring the deploy lock" => "lock",
        "Ensure Docker is installed" => "bootstrap",
        "Ensure kamal-proxy is running" => "proxy",
        "Detect stale containers" => "stale_containers",
        "Prune old containers and images" => "prune",
        "Releasing the deploy lock" => "unlock",
        "Get most recent version available as an image" => "version",
        _ if h.starts_with("Start container with version") => "boot",
        _ if h.starts_with("Acquiring the deploy lock") => "lock",
        _ if h.starts_with("Rebooting kamal-proxy") || h.starts_with("Rebooting proxy") => "proxy_reboot",
        _ => return None,
    })
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// Writes one event (when the stream is on): `{"schema":1,"event":KIND,"time_ms":...,...}`.
fn emit(s: &State, kind: &str, fields: Value) {
    if !s.json {
        return;
    }
    let mut object = Map::new();
    object.insert("schema".into(), json!(SCHEMA_VERSION));
    object.insert("event".into(), json!(kind));
    object.insert("time_ms".into(), json!(now_ms()));
    object.insert("elapsed_ms".into(), json!(ms(s.started.elapsed())));
    if let Value::Object(fields) = fields {
        object.extend(fields);
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", Value::Object(object));
    let _ = out.flush();
}

/// Starts recording a run of `command` (`deploy`, `app boot`...), writing the stream when
/// `format` is JSON; the first event, `run_started`.
pub fn start_run(command: &str, format: OutputFormat, verbose: bool) {
    let state = State {
        json: format == OutputFormat::Json,
        verbose,
        started: Instant::now(),
        phase: None,
        phases: vec![],
        hosts: BTreeMap::new(),
    };
    emit(&state, "run_started", json!({ "command": command, "wharf_version": env!("CARGO_PKG_VERSION") }));
    *STATE.lock().unwrap_or_else(|e| e.into_inner()) = Some(state);
}

/// The run's configuration is known: its version and hosts (`run_configured`).
pub fn configured(service: &str, version: &str, hosts: &[String]) {
    with_state(|s| emit(s, "run_configured", json!({ "service": service, "version": version, "hosts": hosts })));
}

fn finish_phase(s: &mut State) {
    if let Some(phase) = s.phase.take() {
        let took = phase.started.elapsed();
        match s.phases.iter_mut().find(|(id, _)| *id == phase.id) {
            Some((_, total)) => *total += took,
            None => s.phases.push((phase.id.clone(), took)),
        }
        emit(s, "phase_finished", json!({ "phase": phase.id, "duration_ms": ms(took) }));
    }
}

/// A line Kamal says (magenta): a step header starts a phase (`phase_started`, after
/// `phase_finished` for the one before); any other is a `message`.
pub fn said(text: &str) {
    with_state(|s| match phase_of(text) {
        Some(id) => {
            finish_phase(s);
            s.phase = Some(Phase { id: id.to_string(), started: Instant::now() });
            emit(s, "phase_started", json!({ "phase": id, "title": text }));
            crate::progress::phase(id);
        }
        None => emit(s, "message", json!({ "text": text })),
    });
}

fn current_phase(s: &State) -> String {
    s.phase.as_ref().map(|p| p.id.clone()).unwrap_or_else(|| "other".into())
}

/// The phase an exchange of `commands` counts towards on its host: `switch` for the one that
/// moves traffic (`kamal-proxy deploy`: the proxy's health checks, then the switch), `lock` for
/// the deploy lock's (sent alongside the pull, before Kamal's "Acquiring the deploy lock..."),
/// else the run's current phase.
fn step_phase(s: &State, commands: &[&str]) -> String {
    if commands.iter().any(|c| c.contains("kamal-proxy deploy ")) {
        "switch".into()
    } else if commands.iter().any(|c| c.starts_with("mkdir .kamal/lock-")) {
        "lock".into()
    } else {
        current_phase(s)
    }
}

/// Tells exchanges in flight apart, for [`exchange_finished`].
static NEXT_EXCHANGE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// `host` is sent an exchange of `commands` (as `-v` shows them): `step_started`. The token to
/// give [`exchange_finished`].
pub fn exchange_started(host: &str, commands: &[&str]) -> u64 {
    let token = NEXT_EXCHANGE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    with_state(|s| {
        let phase = step_phase(s, commands);
        let record = s.hosts.entry(host.to_string()).or_default();
        if !record.busy.iter().any(|(p, _)| *p == phase) {
            record.busy.push((phase.clone(), Duration::ZERO));
        }
        if record.in_flight.is_empty() {
            record.busy_since = Some(Instant::now());
        }
        record.in_flight.push((token, phase.clone(), Instant::now()));
        record.exchanges += 1;
        let mut fields = json!({ "host": host, "step": token, "phase": phase, "commands_count": commands.len() });
        if s.verbose {
            fields["commands"] = json!(commands);
        }
        emit(s, "step_started", fields);
        crate::progress::host_step(host, &phase, commands.last().copied().unwrap_or(""));
    });
    token
}

/// `host` answered the exchange `token`: each command's exit status (those that ran), in order;
/// `step_finished` with the duration and the exit status (the first non-zero, else 0). The
/// time per phase adds up the exchanges' durations (those in flight together count each).
pub fn exchange_finished(host: &str, token: u64, statuses: &[u32]) {
    with_state(|s| {
        let record = s.hosts.entry(host.to_string()).or_default();
        let Some(at) = record.in_flight.iter().position(|(t, _, _)| *t == token) else { return };
        let (_, phase, started) = record.in_flight.remove(at);
        let took = started.elapsed();
        if record.in_flight.is_empty() {
            if let Some(since) = record.busy_since.take() {
                record.busy_in_all += since.elapsed();
            }
        }
        // (Its phase's slot was made when it started.)
        if let Some((_, total)) = record.busy.iter_mut().find(|(p, _)| *p == phase) {
            *total += took;
        }
        let exit_status = statuses.iter().copied().find(|s| *s != 0).unwrap_or(0);
        let mut fields = json!({
            "host": host, "step": token, "phase": phase, "duration_ms": ms(took), "exit_status": exit_status,
            "commands_run": statuses.len(),
        });
        if s.verbose {
            fields["exit_statuses"] = json!(statuses);
        }
        emit(s, "step_finished", fields);
    });
}

/// A command failed on `host`: the `error` event's host, command, exit status and output tail
/// (all redacted by the caller), before the run ends.
pub fn command_failed(host: &str, command: &str, exit_status: u32, output_tail: &str) {
    with_state(|s| {
        if let Some(r) = s.hosts.get_mut(host) {
            r.failed = true;
        }
        emit(
            s,
            "command_failed",
            json!({ "host": host, "command": command, "exit_status": exit_status, "output": output_tail }),
        );
        crate::progress::host_failed(host, command);
    });
}

/// The deploy lock on `host`: `lock_acquired` or `lock_released`.
pub fn lock(host: &str, acquired: bool) {
    let kind = if acquired { "lock_acquired" } else { "lock_released" };
    with_state(|s| emit(s, kind, json!({ "host": host })));
}

/// A hook ran (`hook`): its name, how long, whether it succeeded.
pub fn hook(name: &str, took: Duration, ok: bool) {
    with_state(|s| emit(s, "hook", json!({ "hook": name, "duration_ms": ms(took), "ok": ok })));
}

/// One health check of a new container on `host` (`health_check`): the attempt, and what it saw
/// (`running`, `healthy`, `starting`, the proxy's answer...).
pub fn health_check(host: &str, role: &str, attempt: u64, answer: &str, healthy: bool) {
    with_state(|s| {
        emit(
            s,
            "health_check",
            json!({ "host": host, "role": role, "attempt": attempt, "answer": answer, "healthy": healthy }),
        )
    });
}

/// Why a new version did not become healthy on `host` (`diagnosis`): see
/// [`crate::app::diagnosis`].
pub fn diagnosis(host: &str, role: &str, details: Value) {
    with_state(|s| {
        let mut fields = json!({ "host": host, "role": role });
        if let (Value::Object(f), Value::Object(d)) = (&mut fields, details) {
            f.extend(d);
        }
        emit(s, "diagnosis", fields);
    });
}

/// A fleet transaction sends `hosts` back from `version` to what they ran before
/// (`fleet_revert`).
pub fn fleet_revert(hosts: &[String], version: &str) {
    with_state(|s| emit(s, "fleet_revert", json!({ "hosts": hosts, "version": version })));
}

/// The canary gate's verdict (`canary_verdict`): promote or abort, why, and the traffic it
/// judged (each cohort's requests, 5xx answers and p95 latency bound in seconds; `null`: no
/// requests, or beyond the last bucket).
pub fn canary_verdict(
    version: &str,
    promote: bool,
    reason: &str,
    canary: &crate::canary::Traffic,
    rest: &crate::canary::Traffic,
) {
    let cohort = |t: &crate::canary::Traffic| {
        json!({
            "requests": t.requests,
            "errors_5xx": t.errors,
            "p95_seconds": t.p95().filter(|p| p.is_finite()),
        })
    };
    with_state(|s| {
        emit(
            s,
            "canary_verdict",
            json!({
                "version": version,
                "verdict": if promote { "promote" } else { "abort" },
                "reason": reason,
                "canary": cohort(canary),
                "rest": cohort(rest),
            }),
        )
    });
}

/// SSHKit's `WARN` line (`warning`).
pub fn warning(host: Option<&str>, text: &str) {
    with_state(|s| emit(s, "warning", json!({ "host": host, "text": text })));
}

/// The time per phase and per host, for the summary and `run_finished`.
pub struct Summary {
    pub total: Duration,
    pub phases: Vec<(String, Duration)>,
    pub hosts: Vec<HostSummary>,
}

/// One host's part of a run.
pub struct HostSummary {
    pub host: String,
    /// Time spent waiting on it, in all.
    pub busy: Duration,
    /// That time per phase (`switch` apart from `boot`), in the order the phases came (the
    /// exchanges sent alongside others, the lock's and the facts', count towards their own).
    pub phases: Vec<(String, Duration)>,
    pub exchanges: u64,
    pub failed: bool,
}

/// Ends the run: `phase_finished` for the last phase, then `run_finished` with the outcome (the
/// error's class and message when it failed), the exit code and the summary. Returns the
/// summary (none if no run was started).
pub fn finish_run(error: Option<(&str, &str)>, exit_code: i32) -> Option<Summary> {
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let s = guard.as_mut()?;
    finish_phase(s);
    let summary = Summary {
        total: s.started.elapsed(),
        phases: s.phases.clone(),
        hosts: s
            .hosts
            .iter()
            .map(|(h, r)| HostSummary {
                host: h.clone(),
                busy: r.busy_in_all,
                phases: r.busy.clone(),
                exchanges: r.exchanges,
                failed: r.failed,
            })
            .collect(),
    };
    let phases: Vec<Value> = summary.phases.iter().map(|(p, d)| json!({ "phase": p, "duration_ms": ms(*d) })).collect();
    let hosts: Vec<Value> = s
        .hosts
        .iter()
        .map(|(h, r)| {
            let per_phase: Map<String, Value> = r.busy.iter().map(|(p, d)| (p.clone(), json!(ms(*d)))).collect();
            json!({
                "host": h, "busy_ms": ms(r.busy_in_all), "exchanges": r.exchanges,
                "failed": r.failed, "phases": per_phase,
            })
        })
        .collect();
    let mut fields = json!({
        "outcome": if error.is_none() { "succeeded" } else { "failed" },
        "exit_code": exit_code,
        "duration_ms": ms(summary.total),
        "phases": phases,
        "hosts": hosts,
    });
    if let Some((class, message)) = error {
        fields["error"] = json!({ "class": class, "message": message });
    }
    emit(s, "run_finished", fields);
    *guard = None;
    Some(summary)
}
