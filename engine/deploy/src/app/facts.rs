//! What a deploy asks each app host before it changes anything, asked with two `docker` runs
//! where Kamal makes seven (see `wharf_commands::facts`), ahead, with the proxy's step:
//!
//! - one `docker inspect` of kamal-proxy and of the new version's containers answers the proxy's
//!   facts ([`crate::proxy::boot`]: its version, and whether `docker network create kamal` and
//!   `docker container start kamal-proxy` would change anything) and whether a container of the
//!   new version exists (`app boot` renames it out of the way);
//! - one `docker ps` of the service's containers answers, per role, the running versions (stale
//!   containers) and, when at most one runs, which one is current (Kamal's three-`docker`
//!   question). With two or more, the current version is asked as Kamal asks it.
//!
//! Each answer is derived in the form of the question it replaces, so the steps that ask those
//! questions read it as they would read Kamal's. Nothing the steps in between do (the proxy,
//! accessories, stopping stale containers) changes these answers.

use crate::commander::Commander;
use wharf_commands::facts::{self, ContainerFacts, RoleContainer};
use wharf_commands::{App, Cmd, Proxy};
use wharf_ssh::Output;

/// The states Kamal's current-version question filters on (`status=running`, `status=restarting`);
/// `docker ps` without `--all` also lists paused containers.
const CURRENT_STATES: [&str; 2] = ["running", "restarting"];

/// Asks the deploy's questions ahead on every app host (see the module documentation), with the
/// canary check.
pub fn prefetch(c: &Commander, version: &str) {
    for h in c.app_hosts() {
        let roles = c.roles_on(&h);
        let apps: Vec<App<'_>> = roles.iter().map(|r| App::new(&c.config, Some(r), Some(&h))).collect();
        let proxy = Proxy::new(&c.config, &h);
        let proxy_name = c.config.proxy_boot().container_name();

        // The containers: kamal-proxy and each role's new version.
        let new_names: Vec<String> = apps.iter().map(|a| a.container_name(Some(version))).collect();
        let mut names = vec![proxy_name];
        names.extend(new_names.iter().map(String::as_str));
        let proxy_facts = proxy.container_facts();
        let clashing: Vec<Cmd> = apps.iter().map(|a| a.container_id_for_version(version, false)).collect();
        let covers: Vec<&Cmd> = std::iter::once(&proxy_facts).chain(&clashing).collect();
        let proxy_answer = (proxy_name.to_string(), proxy_facts.to_string());
        let clash_answers: Vec<(String, String)> =
            new_names.iter().cloned().zip(clashing.iter().map(Cmd::to_string)).collect();
        c.prefetch_deriving(
            &h,
            facts::inspect_containers(&names),
            &covers,
            Box::new(move |out: &Output| from_inspected(out, &proxy_answer, &clash_answers)),
        );

        // The running containers, per role.
        let listing = App::new(&c.config, None, Some(&h)).list_containers_by_role();
        let versions: Vec<Cmd> = apps.iter().map(|a| a.list_versions(&[], &[])).collect();
        let current: Vec<Cmd> = apps.iter().map(App::current_running_version).collect();
        let covers: Vec<&Cmd> = versions.iter().chain(&current).collect();
        let per_role: Vec<RoleQuestions> = roles
            .iter()
            .zip(versions.iter().zip(&current))
            .map(|(role, (versions, current))| RoleQuestions {
                role: role.name().to_string(),
                prefix: format!("{}-", role.container_prefix()),
                versions: versions.to_string(),
                current: current.to_string(),
            })
            .collect();
        c.prefetch_deriving(&h, listing, &covers, Box::new(move |out: &Output| from_listing(out, &per_role)));

        // Wharf: a canary in progress ([`crate::canary::ensure_none`]).
        let canary_checks = roles
            .iter()
            .zip(&apps)
            .filter(|(role, _)| role.running_proxy())
            .map(|(_, app)| app.read_canary())
            .collect();
        c.prefetch(&h, canary_checks);
    }
}

/// The answers `docker inspect`'s output gives to its `(container name, question)` pairs:
/// kamal-proxy's facts (its own line, or Docker's error when it does not exist, as its own
/// `docker inspect` answers), and each new version's container's short id (or nothing). Nothing
/// when Docker said more than that some containers do not exist.
fn from_inspected(out: &Output, proxy: &(String, String), clashes: &[(String, String)]) -> Vec<(String, Output)> {
    if out.exit_status > 1 || !facts::only_missing_containers(&out.stderr_str()) {
        return vec![];
    }
    let stdout = out.stdout_str();
    let (proxy_name, proxy_question) = proxy;
    let proxy_line = stdout.lines().find(|l| l.starts_with(&format!("/{proxy_name} ")));
    let proxy_answer = match proxy_line {
        Some(line) => success(&format!("{line}\n")),
        None => Output {
            exit_status: 1,
            exit_signal: None,
            stdout: vec![],
            stderr: facts::no_such_container(proxy_name).into_bytes(),
        },
    };
    let found = ContainerFacts::parse(&stdout);
    let clash_answers = clashes.iter().map(|(name, question)| {
        let id = found.iter().find(|f| &f.name == name).map(|f| format!("{}\n", f.short_id()));
        (question.clone(), success(&id.unwrap_or_default()))
    });
    std::iter::once((proxy_question.clone(), proxy_answer)).chain(clash_answers).collect()
}

/// One role's questions that the listing answers.
struct RoleQuestions {
    role: String,
    /// `<service>-<role>[-<destination>]-`, what Kamal strips off a name to get the version.
    prefix: String,
    versions: String,
    current: String,
}

/// Per role: the running versions, newest first (Kamal's `list_versions`); and the current
/// version when at most one container runs (with two or more, which one Kamal picks depends on
/// the `latest` image: asked as Kamal asks it). Nothing when the listing is not one.
fn from_listing(out: &Output, roles: &[RoleQuestions]) -> Vec<(String, Output)> {
    let listed = match (out.success(), RoleContainer::parse(&out.stdout_str())) {
        (true, Some(listed)) => listed,
        _ => return vec![],
    };
    let mut answers = vec![];
    for q in roles {
        let mine: Vec<&RoleContainer> = listed.iter().filter(|c| c.role == q.role).collect();
        let version_of = |c: &RoleContainer| c.name.strip_prefix(&q.prefix).unwrap_or(&c.name).to_string();
        let versions: String = mine.iter().map(|c| format!("{}\n", version_of(c))).collect();
        answers.push((q.versions.clone(), success(&versions)));
        if mine.len() <= 1 {
            let current = mine
                .first()
                .filter(|c| CURRENT_STATES.contains(&c.state.as_str()))
                .map(|c| format!("{}\n", version_of(c)))
                .unwrap_or_default();
            answers.push((q.current.clone(), success(&current)));
        }
    }
    answers
}

fn success(stdout: &str) -> Output {
    Output { exit_status: 0, exit_signal: None, stdout: stdout.as_bytes().to_vec(), stderr: vec![] }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(status: u32, stdout: &str, stderr: &str) -> Output {
        Output { exit_status: status, exit_signal: None, stdout: stdout.into(), stderr: stderr.into() }
    }

    const ID: &str = "f0f6ca41265f4c58e4fa266fe9b22257d02d86df7bab604e9e043068e4b69b55";

    fn inspected(out: &Output) -> Vec<(String, Output)> {
        from_inspected(out, &("kamal-proxy".into(), "PROXY?".into()), &[("app-web-2".into(), "CLASH?".into())])
    }

    #[test]
    fn inspected_containers_answer_the_proxy_facts_and_the_clash_check() {
        let proxy = format!("/kamal-proxy {ID} running img:v0.9.2 kamal");
        let out = output(0, &format!("{proxy}\n/app-web-2 {ID} exited app:2\n"), "");
        let answers = inspected(&out);
        assert_eq!(answers[0].0, "PROXY?");
        assert_eq!(answers[0].1.stdout_str(), format!("{proxy}\n"));
        assert_eq!((answers[1].0.as_str(), answers[1].1.stdout_str().as_ref()), ("CLASH?", "f0f6ca41265f\n"));
    }

    #[test]
    fn missing_containers_answer_as_their_own_questions_would() {
        let out = output(1, "", &(facts::no_such_container("kamal-proxy") + &facts::no_such_container("app-web-2")));
        let answers = inspected(&out);
        assert_eq!(answers[0].1.exit_status, 1);
        assert!(answers[0].1.stderr_str().contains("No such container: kamal-proxy"));
        assert_eq!((answers[1].1.exit_status, answers[1].1.stdout_str().as_ref()), (0, ""));
    }

    #[test]
    fn another_docker_error_answers_nothing() {
        let out = output(1, "", "Cannot connect to the Docker daemon at unix:///var/run/docker.sock\n");
        assert!(inspected(&out).is_empty());
        assert!(inspected(&output(125, "", "")).is_empty());
    }

    fn web() -> Vec<RoleQuestions> {
        vec![RoleQuestions {
            role: "web".into(),
            prefix: "app-web-".into(),
            versions: "V?".into(),
            current: "C?".into(),
        }]
    }

    #[test]
    fn one_running_container_is_the_current_version() {
        let answers = from_listing(&output(0, "workers running app-workers-1\nweb running app-web-1\n", ""), &web());
        assert_eq!(answers.len(), 2);
        assert_eq!((answers[0].0.as_str(), answers[0].1.stdout_str().as_ref()), ("V?", "1\n"));
        assert_eq!((answers[1].0.as_str(), answers[1].1.stdout_str().as_ref()), ("C?", "1\n"));
    }

    #[test]
    fn a_paused_container_is_listed_but_not_current_and_none_is_nothing() {
        let answers = from_listing(&output(0, "web paused app-web-1\n", ""), &web());
        assert_eq!((answers[0].1.stdout_str().as_ref(), answers[1].1.stdout_str().as_ref()), ("1\n", ""));
        let answers = from_listing(&output(0, "", ""), &web());
        assert_eq!((answers[0].1.stdout_str().as_ref(), answers[1].1.stdout_str().as_ref()), ("", ""));
    }

    #[test]
    fn with_two_running_the_current_version_is_left_to_kamals_question() {
        let answers = from_listing(&output(0, "web running app-web-2\nweb running app-web-1_replaced_x\n", ""), &web());
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].1.stdout_str(), "2\n1_replaced_x\n");
    }

    #[test]
    fn a_failed_or_unreadable_listing_answers_nothing() {
        assert!(from_listing(&output(1, "", "error"), &web()).is_empty());
        assert!(from_listing(&output(0, "garbage\n", ""), &web()).is_empty());
    }
}
