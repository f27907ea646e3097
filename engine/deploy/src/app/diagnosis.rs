//! Why a new version did not become healthy on a host (Wharf; Kamal prints only the first
//! primary container's logs): its container's state and exit code, the last lines of its logs,
//! the health-check URL the proxy polled, the last answers its health checks got (the proxy's
//! `Healthcheck failed` log lines: a status, a timeout, a refused connection), what the proxy
//! answered, and the proxy's view of its services. Asked in one exchange after the failure; it
//! changes nothing on the server.
//!
//! Written as a `diagnosis` event in the JSON stream, and on a terminal under the failure; the
//! output that is not a terminal stays Kamal's.

use crate::commander::Commander;
use crate::execution::Effect;
use crate::output;
use serde_json::json;
use std::io::IsTerminal;
use wharf_commands::{App, ContainerId, LogsOptions};
use wharf_config::Role;

/// How many of the container's last log lines are shown.
const LOG_LINES: usize = 20;

/// Diagnoses `version` of `role` on `host`, which failed with `failure` (the proxy's answer or
/// the health check's).
pub async fn diagnose(c: &Commander, host: &str, role: &Role, app: &App<'_>, version: &str, failure: &str) {
    if c.plan {
        return;
    }
    let state_query = app.container_state(version);
    let logs_query = app.logs(&LogsOptions {
        container_id: ContainerId::Command(app.container_id_for_version(version, false)),
        lines: Some(LOG_LINES.to_string()),
        ..Default::default()
    });
    let proxy_query = app.proxy_list();
    let checks_query = app.proxy_health_check_failures(version);
    let mut questions = vec![(&state_query, Effect::Query), (&logs_query, Effect::Query)];
    if role.running_proxy() {
        questions.push((&proxy_query, Effect::Query));
        questions.push((&checks_query, Effect::Query));
    }
    // A diagnosis that cannot be asked (the host is gone) is left out, not an error of its own.
    let Ok(answers) = c.exchange(host, &questions).await else { return };
    let redact = |text: &str| c.redact(text.trim());
    let state = redact(&answers[0].stdout_str());
    let mut words = state.split_whitespace();
    let (status, exit_code) = (words.next().unwrap_or("missing").to_string(), words.next().map(str::to_string));
    let logs: Vec<String> = {
        let text = format!("{}{}", answers[1].stdout_str(), answers[1].stderr_str());
        let lines: Vec<String> = text.lines().map(&redact).collect();
        lines[lines.len().saturating_sub(LOG_LINES)..].to_vec()
    };
    // The proxy polls the container on the `kamal` network, where its name resolves too.
    let health_url = role
        .running_proxy()
        .then(|| role.proxy())
        .flatten()
        .map(|p| format!("http://{}:{}{}", app.container_name(Some(version)), p.app_port(), p.healthcheck_path()));
    let proxy_view = answers.get(2).map(|o| redact(&o.stdout_str()));
    let health_checks: Vec<HealthCheckAnswer> = answers
        .get(3)
        .map(|o| o.stdout_str().lines().map(|l| HealthCheckAnswer::parse(&redact(l))).collect())
        .unwrap_or_default();
    let failure = redact(failure);
    crate::events::diagnosis(
        host,
        role.name(),
        json!({
            "version": version,
            "container_status": status,
            "exit_code": exit_code.as_deref().and_then(|c| c.parse::<i64>().ok()),
            "logs": logs,
            "health_check_url": health_url,
            "health_checks": health_checks.iter().map(|h| json!({"time": h.time, "answer": h.answer})).collect::<Vec<_>>(),
            "failure": failure,
            "proxy_services": proxy_view,
        }),
    );
    if !std::io::stdout().is_terminal() || c.global.quiet {
        return;
    }
    let mut lines = vec![format!(
        "Why {} did not become healthy on {host}: container {status}{}",
        role.name(),
        exit_code.map(|e| format!(", exit code {e}")).unwrap_or_default()
    )];
    if let Some(url) = health_url {
        lines.push(format!("  health check: {url}"));
    }
    if !health_checks.is_empty() {
        lines.push(format!("  last {} failed health checks:", health_checks.len()));
        lines.extend(health_checks.iter().map(|h| format!("    {} {}", h.time.as_deref().unwrap_or(""), h.answer)));
    }
    lines.push(format!("  failure: {}", failure.lines().last().unwrap_or("")));
    if !logs.is_empty() {
        lines.push(format!("  last {} log lines:", logs.len()));
        lines.extend(logs.iter().map(|l| format!("    {l}")));
    }
    for line in lines {
        output::say_red(&line);
    }
}

/// One failed health check, from the proxy's log line
/// (`{"time":...,"msg":"Healthcheck failed","url":...,"error":"unexpected status (500)"}`).
struct HealthCheckAnswer {
    time: Option<String>,
    /// `unexpected status (500)`, `request timed out`, a refused connection...; the whole line
    /// when it is not the proxy's JSON.
    answer: String,
}

impl HealthCheckAnswer {
    fn parse(line: &str) -> Self {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(v) => HealthCheckAnswer {
                time: v["time"].as_str().map(str::to_string),
                answer: v["error"].as_str().unwrap_or(line).to_string(),
            },
            Err(_) => HealthCheckAnswer { time: None, answer: line.to_string() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HealthCheckAnswer;

    #[test]
    fn the_proxys_log_line_gives_the_time_and_the_answer() {
        let line = r#"{"time":"2026-12-06T02:10:17.154986237Z","level":"INFO","msg":"Healthcheck failed","url":"http://975e4e872036:80/up","error":"unexpected status (500)"}"#;
        let h = HealthCheckAnswer::parse(line);
        assert_eq!(h.time.as_deref(), Some("2026-12-06T02:10:17.154986237Z"));
        assert_eq!(h.answer, "unexpected status (500)");
        let other = HealthCheckAnswer::parse("level=INFO msg=\"Healthcheck failed\" error=refused");
        assert_eq!((other.time, other.answer.as_str()), (None, "level=INFO msg=\"Healthcheck failed\" error=refused"));
    }
}
