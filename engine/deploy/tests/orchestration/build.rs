//! `wharf build` (Kamal's test/cli/build_test.rb): `push` (the clone, Kamal's buildx builder, the
//! builder plugin's `docker buildx build`, all recorded on [`LOCAL`]), `pull` (the mirror probe,
//! seeding mirrors first, the pull and the service-label check on every app host), `deliver`,
//! `create`, `remove`, `details` and `dev`. Real builds and pushes are tested end to end in
//! engine/cli/tests (e2e.rs, plugins_e2e.rs, registry_modes.rs).

use crate::harness::*;
use wharf_deploy::build;
use wharf_deploy::execution::{Answer, FakeExecutor, LOCAL};

const HOSTS: [&str; 4] = ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"];
const MIRROR: &str = "docker info --format '{{index .RegistryConfig.Mirrors 0}}'";
const REMOVE: &str = "docker image rm --force dhh/app:999";
const PULL: &str = "docker pull dhh/app:999";
const LABEL: &str = "docker inspect -f '{{ .Config.Labels.service }}' dhh/app:999 | grep -x app || (echo \"Image dhh/app:999 is missing the 'service' label\" && exit 1)";

fn run_pull(fake: &FakeExecutor) -> Run {
    run(&Project::kamal("deploy_with_accessories.yml"), "build", defaults(), fake, step(|c| Box::pin(build::pull(c))))
}

fn pulled_on(run: &Run) -> Vec<&'static str> {
    HOSTS.iter().copied().filter(|h| run.commands_on(h).iter().any(|c| c == PULL)).collect()
}

#[test]
fn pull() {
    let fake = FakeExecutor::new();
    let run = run_pull(&fake);
    run.ok().does_not_print("to seed the mirror");
    for host in HOSTS {
        // ADAPT: Kamal removes the image before pulling it (`REMOVE`); Wharf does not (the pull
        // moves the tag to what the registry answers either way: the same server state).
        run.ran_in_order(host, &[MIRROR, PULL, LABEL]);
        assert!(!run.commands_on(host).iter().any(|c| c == REMOVE), "{host}");
        assert_eq!(run.commands_on(host).iter().filter(|c| *c == PULL).count(), 1, "{host}");
    }
}

/// Docker's answer to the mirror question on a server without one.
const NO_MIRROR: &str =
    "template: :1:2: executing \"\" at <index .RegistryConfig.Mirrors 0>: error calling index: reflect: slice index out of range";

/// A host without a registry mirror pulls in the exchange that asks it for one: the question,
/// then the audit line, the pull and the label check, one round trip.
#[test]
fn pull_where_docker_names_no_mirror_goes_with_the_question() {
    let fake = FakeExecutor::new();
    fake.fails(MIRROR, 1, NO_MIRROR);
    let run = run_pull(&fake);
    run.ok().does_not_print("to seed the mirror").does_not_print("remaining hosts");
    for host in HOSTS {
        let exchanges = fake.exchanges_of(host);
        assert_eq!(exchanges.len(), 1, "{host}: {exchanges:?}");
        let sent = &exchanges[0];
        let at = |prefix: &str| {
            sent.iter().position(|c| c.starts_with(prefix)).unwrap_or_else(|| panic!("{prefix}: {sent:?}"))
        };
        assert!(at(MIRROR) < at("mkdir -p .kamal && echo") && at(PULL) < at(LABEL), "{host}: {sent:?}");
        assert_eq!(run.commands_on(host).iter().filter(|c| *c == PULL).count(), 1, "{host}");
    }
}

/// Only the hosts behind a mirror wait for it to be seeded; the others pulled with the question.
#[test]
fn pull_with_a_mirror_behind_one_host_only() {
    let fake = FakeExecutor::new();
    // (The first rule that matches answers.)
    fake.answer_on("1.1.1.3", MIRROR, Answer::Stdout("registry-mirror.example.com".into()));
    fake.fails(MIRROR, 1, NO_MIRROR);
    let run = run_pull(&fake);
    run.ok().prints("Pulling image on 1.1.1.3 to seed the mirror...").prints("Pulling image on remaining hosts...");
    assert_eq!(pulled_on(&run), HOSTS.to_vec(), "every app host pulls once");
    for host in HOSTS {
        assert_eq!(run.commands_on(host).iter().filter(|c| *c == PULL).count(), 1, "{host}");
    }
    let seeding = fake.exchanges_of("1.1.1.3");
    assert_eq!(seeding.len(), 2, "the question (what followed it did not run), then the pull: {seeding:?}");
    let audited = run.commands_on("1.1.1.3").iter().filter(|c| c.contains("Pulled image with version 999")).count();
    assert_eq!(audited, 1);
}

/// `docker info` failing otherwise is Kamal's error, naming the host.
#[test]
fn pull_when_docker_info_fails_otherwise_names_the_host() {
    let fake = FakeExecutor::new();
    fake.answer_on("1.1.1.2", MIRROR, Answer::Fails(1, "Cannot connect to the Docker daemon".into()));
    fake.fails(MIRROR, 1, NO_MIRROR);
    let run = run_pull(&fake);
    let error = run.error();
    assert!(error.contains("Exception while executing on host 1.1.1.2: docker exit status: 1\n"), "{error}");
    assert!(error.contains("Cannot connect to the Docker daemon"), "{error}");
}

#[test]
fn pull_with_mirror() {
    let fake = FakeExecutor::new();
    fake.stdout(MIRROR, "registry-mirror.example.com");
    let run = run_pull(&fake);
    run.ok().prints("Pulling image on remaining hosts...");
    let seeding = run.lines.iter().find(|l| l.contains("to seed the mirror")).expect("a seeding line").clone();
    let seeded: Vec<&str> =
        HOSTS.iter().copied().filter(|h| seeding == format!("Pulling image on {h} to seed the mirror...")).collect();
    assert_eq!(seeded.len(), 1, "one host seeds the one mirror: {seeding}");
    assert_eq!(pulled_on(&run), HOSTS.to_vec(), "every app host pulls once");
    // The seeding host pulls before any other host does.
    let recorded = run.fake.recorded();
    let first_pull = recorded.iter().find(|r| r.command == PULL).unwrap();
    assert_eq!(first_pull.host, seeded[0]);
}

#[test]
fn pull_with_mirrors() {
    let fake = FakeExecutor::new();
    fake.answer_times(MIRROR, 1, Answer::Stdout("registry-mirror.example.com".into()));
    fake.stdout(MIRROR, "registry-mirror2.example.com");
    let run = run_pull(&fake);
    run.ok().prints("Pulling image on remaining hosts...");
    let seeding = run.lines.iter().find(|l| l.contains("to seed the mirrors")).expect("a seeding line");
    let seeds = seeding.trim_start_matches("Pulling image on ").trim_end_matches(" to seed the mirrors...");
    assert_eq!(seeds.split(", ").count(), 2, "one host per mirror: {seeding}");
    assert_eq!(pulled_on(&run), HOSTS.to_vec());
}

#[test]
fn pull_with_a_host_missing_the_service_label_fails_naming_it() {
    let fake = FakeExecutor::new();
    fake.answer_on(
        "1.1.1.3",
        "docker inspect -f",
        Answer::Fails(1, "Image dhh/app:999 is missing the 'service' label".into()),
    );
    let run = run_pull(&fake);
    let error = run.error();
    assert!(error.contains("Exception while executing on host 1.1.1.3"), "{error}");
    assert!(error.contains("is missing the 'service' label"), "{error}");
}

#[test]
fn pull_with_local_registry_tunnels_to_the_app_hosts() {
    // Kamal's "pull with local registry" mocks the port forwarder; here the fake records the
    // tunnel Wharf opens on each app host while it pulls `localhost:PORT/...` (no login).
    let port = registry_on_loopback();
    let yml = wharf_testkit::kamal_fixture("deploy_with_local_registry.yml")
        .replace("localhost:5000", &format!("localhost:{port}"));
    let project = Project::new(&yml);
    let fake = FakeExecutor::new();
    let run = run(&project, "build", defaults(), &fake, step(|c| Box::pin(build::pull(c))));
    run.ok().prints("Setting up local registry port forwarding to 1.1.1.1, 1.1.1.2...");
    for host in ["1.1.1.1", "1.1.1.2"] {
        run.ran_in_order(host, &[&format!("forward {port}"), &format!("docker pull localhost:{port}/dhh/app:999")]);
    }
    run.never_ran("docker login");
}

#[test]
fn pull_with_local_registry_not_answering_here_opens_no_tunnel() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let yml = wharf_testkit::kamal_fixture("deploy_with_local_registry.yml")
        .replace("localhost:5000", &format!("localhost:{port}"));
    let fake = FakeExecutor::new();
    let run = run(&Project::new(&yml), "build", defaults(), &fake, step(|c| Box::pin(build::pull(c))));
    let error = run.error();
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    assert!(
        !run.commands().iter().any(|c| c.starts_with("forward") || c.starts_with("docker pull")),
        "{:?}",
        run.commands()
    );
}

// ---- build push (Kamal's "push ..." tests) ----

/// A project of Kamal's fixture `name`, committed to git, with every hook present (Kamal stubs
/// `hook_exists?` to true), its clone's build directory prepared; the fake answers the clone's
/// revision. The project, its build directory and the fake.
fn push_project(name: &str) -> (Project, String, FakeExecutor) {
    let project = Project::kamal(name);
    for hook in ["pre-connect", "pre-build"] {
        project.hook(hook, "exit 0");
    }
    let revision = project.git_commit();
    let build_dir = project.build_directory();
    let fake = FakeExecutor::new();
    fake.answer_on(LOCAL, &format!("git -C {build_dir}/ rev-parse HEAD"), Answer::Stdout(revision));
    (project, build_dir, fake)
}

fn run_push(project: &Project, fake: &FakeExecutor, output: &'static str, no_cache: bool) -> Run {
    run(project, "build", verbose(), fake, step(move |c| Box::pin(build::push(c, output, no_cache))))
}

/// The plugin's build of Kamal's fixtures in `build_dir`, with these leading options.
fn buildx_build(options: &str, build_dir: &str) -> String {
    format!("docker buildx build {options} --label service=app --file {build_dir}/Dockerfile {build_dir}/.")
}

#[test]
fn deliver_pushes_then_pulls() {
    let (project, _build_dir, fake) = push_project("deploy_with_accessories.yml");
    let run = run(&project, "build", defaults(), &fake, step(|c| Box::pin(build::deliver(c, false))));
    run.ok();
    let recorded = run.fake.recorded();
    let built = recorded.iter().position(|r| r.command.starts_with("docker buildx build")).expect("a build");
    let first_pull = recorded.iter().position(|r| r.command == PULL).expect("a pull");
    assert!(built < first_pull, "built before pulling: {recorded:?}");
    for host in HOSTS {
        run.ran_on(host, PULL);
    }
}

/// A deploy that builds connects to every server while the image builds (Wharf: nothing runs
/// on them until the pull); with `--skip-push` there is nothing to wait on, and no warming.
#[test]
fn a_deploy_connects_to_the_servers_while_the_image_builds() {
    use wharf_deploy::main::{self as main_cmd, DeployOptions};
    let deploy = |skip_push: bool| {
        let (project, _build_dir, fake) = push_project("deploy_simple.yml");
        // `docker run --detach` prints the new container's id, as Docker does.
        fake.stdout("docker run --detach", "0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef");
        let options = move || DeployOptions {
            skip_push,
            no_cache: false,
            boot_accessories: false,
            redeploy: false,
            canary: None,
        };
        let run = run(&project, "deploy", defaults(), &fake, step(move |c| Box::pin(main_cmd::deploy(c, options()))));
        run.ok();
        (fake.warmed(), run.fake.recorded())
    };
    let (warmed, recorded) = deploy(false);
    let built = recorded.iter().position(|r| r.command.starts_with("docker buildx build")).expect("a build");
    let mut hosts: Vec<&str> = warmed.iter().map(|(h, _)| h.as_str()).collect();
    hosts.sort();
    assert_eq!(hosts, ["1.1.1.1", "1.1.1.2"], "every server: {warmed:?}");
    assert!(warmed.iter().all(|(_, at)| *at <= built), "before the build: {warmed:?}, {recorded:?}");
    assert!(
        !recorded[..built].iter().any(|r| r.host != LOCAL),
        "nothing ran on a server before the build: {recorded:?}"
    );
    assert_eq!(deploy(true).0, vec![], "no build, no warming");
}

#[test]
fn push() {
    let (project, build_dir, fake) = push_project("deploy_with_accessories.yml");
    let run = run_push(&project, &fake, "registry", false);
    run.ok()
        .prints("Running /usr/bin/env .kamal/hooks/pre-connect")
        .prints("Running /usr/bin/env .kamal/hooks/pre-build")
        .prints("Cloning repo into build directory");
    let clone_dir = project.clone_directory();
    let pwd = project.path().display().to_string();
    run.ran_in_order(
        LOCAL,
        &[
            "docker --version",
            "docker buildx version",
            "docker login -u [REDACTED] --password-stdin",
            &format!("git -C {clone_dir} clone {pwd} --recurse-submodules"),
            &format!("git -C {build_dir}/ status --porcelain"),
            &format!("git -C {build_dir}/ rev-parse HEAD"),
            "docker buildx inspect kamal-local-docker-container",
            &buildx_build(
                "--output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:999 -t dhh/app:latest",
                &build_dir,
            ),
        ],
    );
    run.never_ran("docker buildx create");
}

#[test]
fn push_with_remote_builder_checks_both_the_builder_and_the_remote_context() {
    let (project, build_dir, fake) = push_project("deploy_with_remote_builder.yml");
    let run = run_push(&project, &fake, "registry", false);
    run.ok().never_ran("docker login");
    let arch = if run.output().contains("linux/amd64") { "amd64" } else { "arm64" };
    run.ran_in_order(
        LOCAL,
        &[
            "docker buildx inspect kamal-remote-ssh---app-1-1-1-5 | grep -q Endpoint:.*kamal-remote-ssh---app-1-1-1-5-context && docker context inspect kamal-remote-ssh---app-1-1-1-5-context --format '{{.Endpoints.docker.Host}}' | grep -xq ssh://app@1.1.1.5 || (echo no compatible builder && exit 1)",
            &format!(
                "BUILDKIT_NO_CLIENT_TOKEN=1 {}",
                buildx_build(
                    &format!("--output=type=registry --platform linux/{arch} --builder kamal-remote-ssh---app-1-1-1-5 -t dhh/app:999 -t dhh/app:latest"),
                    &build_dir
                )
            ),
        ],
    );
}

/// Kamal's `assert_local_registry_started_before_push`: the registry container starts before the
/// build, the remote builder gets a tunnel to it, nothing logs in.
fn assert_local_registry_started_before_push(fixture: &str) {
    let port = registry_on_loopback();
    let (project, _build_dir, fake) = push_project(fixture);
    let yml = wharf_testkit::kamal_fixture(fixture).replace("localhost:5000", &format!("localhost:{port}"));
    project.file("config/deploy.yml", &yml);
    let run = run_push(&project, &fake, "registry", false);
    run.ok().never_ran("docker login");
    let start = format!(
        "docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:{port}:5000 --name kamal-docker-registry registry:3"
    );
    let local = run.commands_on(LOCAL);
    let started = local.iter().position(|c| *c == start).unwrap_or_else(|| panic!("{start}: {local:?}"));
    let built = local.iter().position(|c| c.contains("docker buildx build")).expect("a build");
    assert!(started < built, "{local:?}");
    assert!(local[built].starts_with("BUILDKIT_NO_CLIENT_TOKEN=1 "), "{}", local[built]);
    run.ran_on("app@1.1.1.5", &format!("forward {port}"));
}

#[test]
fn push_with_remote_builder_and_local_registry_starts_the_local_registry_container() {
    assert_local_registry_started_before_push("deploy_with_local_registry_and_remote_builder.yml");
}

#[test]
fn push_with_hybrid_builder_and_local_registry_starts_the_local_registry_container() {
    assert_local_registry_started_before_push("deploy_with_local_registry_and_hybrid_builder.yml");
}

#[test]
fn push_output_docker() {
    let (project, build_dir, fake) = push_project("deploy_with_accessories.yml");
    let run = run_push(&project, &fake, "docker", false);
    run.ok().prints("Running /usr/bin/env .kamal/hooks/pre-build").prints("Cloning repo into build directory");
    run.ran_on(
        LOCAL,
        &buildx_build(
            "--output=type=docker --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:999 -t dhh/app:latest",
            &build_dir,
        ),
    );
}

#[test]
fn push_output_other_export_types_run_kamals_command() {
    let (project, _build_dir, fake) = push_project("deploy_with_accessories.yml");
    let run = run_push(&project, &fake, "local", false);
    run.ok().ran_on(
        LOCAL,
        "docker buildx build --output=type=local --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:999 -t dhh/app:latest --label service=\"app\" --file Dockerfile . 2>&1",
    );
}

#[test]
fn push_resetting_clone() {
    let (project, build_dir, fake) = push_project("deploy_with_accessories.yml");
    let clone_dir = project.clone_directory();
    let pwd = project.path().display().to_string();
    let revision = project.revision();
    fake.answer_times(
        " clone ",
        1,
        Answer::Fails(128, "fatal: destination path 'x' already exists and is not an empty directory".into()),
    );
    let run = run_push(&project, &fake, "registry", false);
    run.ok().prints("Cloning repo into build directory").prints("Resetting local clone");
    run.ran_in_order(
        LOCAL,
        &[
            &format!("git -C {clone_dir} clone {pwd} --recurse-submodules"),
            &format!("git -C {build_dir}/ remote set-url origin {pwd}"),
            &format!("git -C {build_dir}/ fetch origin"),
            &format!("git -C {build_dir}/ reset --hard {revision}"),
            &format!("git -C {build_dir}/ clean -fdx"),
            &format!("git -C {build_dir}/ submodule update --init"),
            &format!("git -C {build_dir}/ gc --auto --quiet"),
            &format!("git -C {build_dir}/ status --porcelain"),
            &format!("git -C {build_dir}/ rev-parse HEAD"),
        ],
    );
    let clones = run.commands_on(LOCAL).iter().filter(|c| c.contains(" clone ")).count();
    assert_eq!(clones, 1);
}

#[test]
fn push_without_clone() {
    let project = Project::kamal("deploy_without_clone.yml");
    project.hook("pre-build", "exit 0").file("Dockerfile", "FROM scratch\n");
    let dir = project.path().display().to_string();
    let fake = FakeExecutor::new();
    let run = run_push(&project, &fake, "registry", false);
    run.ok().does_not_print("Cloning repo into build directory").prints("Running /usr/bin/env .kamal/hooks/pre-build");
    run.ran_on(
        LOCAL,
        &buildx_build(
            "--output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:999 -t dhh/app:latest",
            &dir,
        ),
    );
}

#[test]
fn push_with_no_cache() {
    let project = Project::kamal("deploy_without_clone.yml");
    project.file("Dockerfile", "FROM scratch\n");
    let fake = FakeExecutor::new();
    let run = run_push(&project, &fake, "registry", true);
    run.ok();
    let build = run.commands_on(LOCAL).into_iter().find(|c| c.starts_with("docker buildx build")).expect("a build");
    assert!(build.contains(" --no-cache "), "{build}");
}

#[test]
fn push_with_corrupt_clone_deletes_it_and_clones_again() {
    let (project, build_dir, fake) = push_project("deploy_with_accessories.yml");
    let pwd = project.path().display().to_string();
    fake.answer_times(
        " clone ",
        1,
        Answer::Fails(128, "fatal: destination path 'x' already exists and is not an empty directory".into()),
    );
    fake.fails("remote set-url origin", 128, "fatal: not a git repository");
    let run = run_push(&project, &fake, "registry", false);
    run.prints("Error preparing clone: Failed to clone repo: ");
    run.prints("fatal: not a git repository, deleting and retrying...");
    let clones = run.commands_on(LOCAL).iter().filter(|c| c.contains(" clone ")).count();
    assert_eq!(clones, 2, "{:?}", run.commands_on(LOCAL));
    run.ran_in_order(
        LOCAL,
        &[
            &format!("git -C {build_dir}/ remote set-url origin {pwd}"),
            &format!("git -C {} clone {pwd} --recurse-submodules", project.clone_directory()),
            &format!("git -C {build_dir}/ status --porcelain"),
            &format!("git -C {build_dir}/ rev-parse HEAD"),
        ],
    );
    // The clone directory was deleted, and the fake's `git clone` wrote nothing back: the build
    // stops there, before any docker build.
    assert!(run.error().contains("Missing Dockerfile"), "{}", run.error());
    run.never_ran("docker buildx build");
}

#[test]
fn push_with_a_clone_on_another_revision_fails_after_one_retry() {
    let (project, _build_dir, fake) = push_project("deploy_with_accessories.yml");
    let fake2 = FakeExecutor::new();
    fake2.stdout("rev-parse HEAD", "0000000");
    drop(fake);
    let run = run_push(&project, &fake2, "registry", false);
    let error = run.error();
    assert!(error.starts_with("ERROR (Kamal::Cli::Build::BuildError): Clone in "), "{error}");
    assert!(error.contains("is not on the correct revision, expected `"), "{error}");
    assert!(error.ends_with("but got `0000000`"), "{error}");
    run.never_ran("docker buildx build");
}

#[test]
fn push_without_builder_for_local_registry() {
    let port = registry_on_loopback();
    let (project, build_dir, fake) = push_project("deploy_with_local_registry_and_accessories.yml");
    let yml = wharf_testkit::kamal_fixture("deploy_with_local_registry_and_accessories.yml")
        .replace("localhost:5000", &format!("localhost:{port}"));
    project.file("config/deploy.yml", &yml);
    fake.fails(
        "docker buildx inspect kamal-local-registry-docker-container",
        1,
        "ERROR: no builder \"kamal-local-registry-docker-container\" found",
    );
    let run = run(&project, "build", defaults(), &fake, step(|c| Box::pin(build::push(c, "registry", false))));
    run.ok().prints("WARN [local] Missing compatible builder, so creating a new one first");
    run.ran_in_order(
        LOCAL,
        &[
            &format!("docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:{port}:5000 --name kamal-docker-registry registry:3"),
            "docker buildx inspect kamal-local-registry-docker-container",
            "docker buildx rm kamal-local-registry-docker-container",
            "docker buildx create --name kamal-local-registry-docker-container --driver=docker-container --driver-opt network=host",
            &buildx_build(
                &format!("--output=type=registry --platform linux/amd64 --builder kamal-local-registry-docker-container -t localhost:{port}/dhh/app:999 -t localhost:{port}/dhh/app:latest"),
                &build_dir,
            ),
        ],
    );
    run.never_ran("docker login");
}

#[test]
fn push_without_builder() {
    let (project, build_dir, fake) = push_project("deploy_with_accessories.yml");
    fake.fails("docker buildx inspect", 1, "ERROR: no builder \"kamal-local-docker-container\" found");
    let run = run(&project, "build", defaults(), &fake, step(|c| Box::pin(build::push(c, "registry", false))));
    run.ok().prints("Missing compatible builder, so creating a new one first");
    run.ran_in_order(
        LOCAL,
        &[
            "docker buildx inspect kamal-local-docker-container",
            "docker buildx rm kamal-local-docker-container",
            "docker buildx create --name kamal-local-docker-container --driver=docker-container",
            &buildx_build(
                "--output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:999 -t dhh/app:latest",
                &build_dir,
            ),
        ],
    );
}

#[test]
fn push_with_a_builder_inspect_failing_otherwise_stops() {
    let (project, _build_dir, fake) = push_project("deploy_with_accessories.yml");
    fake.fails("docker buildx inspect", 1, "Cannot connect to the Docker daemon");
    let run = run_push(&project, &fake, "registry", false);
    assert!(run.error().contains("Cannot connect to the Docker daemon"), "{}", run.error());
    run.never_ran("docker buildx create");
    run.never_ran("docker buildx build");
}

#[test]
fn push_with_no_buildx_plugin_builds_with_the_classic_builder() {
    // Kamal raises a DependencyError; Wharf builds with `docker build` and pushes each tag.
    let (project, build_dir, fake) = push_project("deploy_with_accessories.yml");
    fake.fails("docker buildx version", 1, "docker: 'buildx' is not a docker command.");
    let run = run_push(&project, &fake, "registry", false);
    run.ok().never_ran("docker buildx build");
    run.ran_in_order(
        LOCAL,
        &[
            &format!(
                "DOCKER_BUILDKIT=0 docker build -t dhh/app:999 -t dhh/app:latest --label service=app --file {build_dir}/Dockerfile {build_dir}/."
            ),
            "docker push dhh/app:999",
            "docker push dhh/app:latest",
        ],
    );
}

#[test]
fn push_without_docker_is_a_dependency_error() {
    let (project, _build_dir, fake) = push_project("deploy_with_accessories.yml");
    fake.fails("docker --version", 127, "sh: 1: docker: not found");
    let run = run_push(&project, &fake, "registry", false);
    assert_eq!(run.error(), "ERROR (Kamal::Cli::DependencyError): Docker is not installed locally");
}

#[test]
fn push_pre_build_hook_failure() {
    let (project, _build_dir, fake) = push_project("deploy_with_accessories.yml");
    project.hook("pre-build", "echo failed; exit 1");
    let run = run_push(&project, &fake, "registry", false);
    assert_eq!(run.error(), "ERROR (Kamal::Cli::HookError): Hook `pre-build` failed:\nfailed\n");
    run.never_ran("docker buildx build");
    run.never_ran(" clone ");
}

// ---- build create / remove / details ----

fn run_build(fixture: &str, fake: &FakeExecutor, step: Step) -> Run {
    run(&Project::kamal(fixture), "build", verbose(), fake, step)
}

#[test]
fn create() {
    let fake = FakeExecutor::new();
    let run = run_build("deploy_with_accessories.yml", &fake, step(|c| Box::pin(build::create(c))));
    run.ok().prints("Using builder: local");
    assert_eq!(
        run.commands_on(LOCAL),
        ["docker buildx create --name kamal-local-docker-container --driver=docker-container"]
    );
}

#[test]
fn create_remote() {
    let fake = FakeExecutor::new();
    let run = run_build("deploy_with_remote_builder.yml", &fake, step(|c| Box::pin(build::create(c))));
    run.ok().ran_on("app@1.1.1.5", "true");
    run.ran_on(
        LOCAL,
        "docker context create kamal-remote-ssh---app-1-1-1-5-context --description 'kamal-remote-ssh---app-1-1-1-5 host' --docker 'host=ssh://app@1.1.1.5' ; docker buildx create --name kamal-remote-ssh---app-1-1-1-5 kamal-remote-ssh---app-1-1-1-5-context",
    );
}

#[test]
fn create_remote_with_custom_ports() {
    let fake = FakeExecutor::new();
    let run = run_build("deploy_with_remote_builder_and_custom_ports.yml", &fake, step(|c| Box::pin(build::create(c))));
    run.ok().ran_on("app@1.1.1.5:2122", "true");
    run.ran_on(
        LOCAL,
        "docker context create kamal-remote-ssh---app-1-1-1-5-2122-context --description 'kamal-remote-ssh---app-1-1-1-5-2122 host' --docker 'host=ssh://app@1.1.1.5:2122' ; docker buildx create --name kamal-remote-ssh---app-1-1-1-5-2122 kamal-remote-ssh---app-1-1-1-5-2122-context",
    );
}

#[test]
fn create_hybrid() {
    let fake = FakeExecutor::new();
    let run = run_build("deploy_with_hybrid_builder.yml", &fake, step(|c| Box::pin(build::create(c))));
    run.ok().ran_on("app@1.1.1.5", "true");
    let create = run.commands_on(LOCAL).join("\n");
    for part in [
        " --name kamal-hybrid-docker-container-ssh---app-1-1-1-5 --driver=docker-container",
        "docker context create kamal-hybrid-docker-container-ssh---app-1-1-1-5-context --description 'kamal-hybrid-docker-container-ssh---app-1-1-1-5 host' --docker 'host=ssh://app@1.1.1.5'",
        " --append --name kamal-hybrid-docker-container-ssh---app-1-1-1-5 kamal-hybrid-docker-container-ssh---app-1-1-1-5-context",
    ] {
        assert!(create.contains(part), "{part:?} in {create}");
    }
}

#[test]
fn create_cloud() {
    let fake = FakeExecutor::new();
    let run = run_build("deploy_with_cloud_builder.yml", &fake, step(|c| Box::pin(build::create(c))));
    run.ok().ran_on(LOCAL, "docker buildx create --driver cloud example_org/cloud_builder");
}

#[test]
fn create_with_error() {
    let fake = FakeExecutor::new();
    fake.fails("docker", 1, "error");
    let run = run_build("deploy_with_accessories.yml", &fake, step(|c| Box::pin(build::create(c))));
    assert_eq!(run.error(), "ERROR (SSHKit::Command::Failed): Couldn't create remote builder: error");
}

#[test]
fn create_with_local_registry() {
    let fake = FakeExecutor::new();
    let run = run_build("deploy_with_local_registry.yml", &fake, step(|c| Box::pin(build::create(c))));
    run.ok().ran_on(
        LOCAL,
        "docker buildx create --name kamal-local-registry-docker-container --driver=docker-container --driver-opt network=host",
    );
}

#[test]
fn create_with_local_registry_and_remote_builder() {
    for (fixture, name) in [
        ("deploy_with_local_registry_and_remote_builder.yml", "kamal-remote-ssh---app-1-1-1-5-local-registry"),
        (
            "deploy_with_local_registry_and_remote_builder_with_port.yml",
            "kamal-remote-ssh---app-1-1-1-5-2222-local-registry",
        ),
    ] {
        let fake = FakeExecutor::new();
        let run = run_build(fixture, &fake, step(|c| Box::pin(build::create(c))));
        let create = run.ok().commands_on(LOCAL).join("\n");
        assert!(create.contains(&format!("docker buildx create --name {name}")), "{create}");
        assert!(create.contains("--driver-opt network=host"), "{create}");
    }
}

#[test]
fn remove() {
    let fake = FakeExecutor::new();
    let run = run_build("deploy_with_accessories.yml", &fake, step(|c| Box::pin(async move { build::remove(c) })));
    run.ok().ran_on(LOCAL, "docker buildx rm kamal-local-docker-container");
}

#[test]
fn remove_cloud() {
    let fake = FakeExecutor::new();
    let run = run_build("deploy_with_cloud_builder.yml", &fake, step(|c| Box::pin(async move { build::remove(c) })));
    run.ok().ran_on(LOCAL, "docker buildx rm cloud-example_org-cloud_builder");
}

#[test]
fn details() {
    let fake = FakeExecutor::new();
    fake.stdout("docker context ls && docker buildx ls", "docker builder info");
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "build",
        defaults(),
        &fake,
        step(|c| Box::pin(async move { build::details(c) })),
    );
    run.ok();
    assert_eq!(run.lines, ["Builder: local", "docker builder info"]);
}

// ---- build dev ----

/// A project of Kamal's fixture with a Dockerfile where `build dev` builds (the working
/// directory).
fn dev_project() -> Project {
    let project = Project::kamal("deploy_with_accessories.yml");
    project.file("Dockerfile", "FROM scratch\n");
    project
}

fn run_dev(project: &Project, fake: &FakeExecutor, output: &'static str, no_cache: bool) -> Run {
    run(project, "build", verbose(), fake, step(move |c| Box::pin(build::dev(c, output, no_cache))))
}

#[test]
fn dev() {
    let project = dev_project();
    project.git_commit();
    let fake = FakeExecutor::new();
    let run = run_dev(&project, &fake, "docker", false);
    run.ok().does_not_print("Cloning repo into build directory").does_not_print("WARNING");
    assert_eq!(
        run.commands_on(LOCAL),
        [
            "docker --version",
            "docker buildx version",
            "docker buildx build --output=type=docker --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:999-dirty -t dhh/app:latest-dirty --label service=\"app\" --file Dockerfile . 2>&1",
        ]
    );
}

#[test]
fn dev_output_local() {
    let project = dev_project();
    let fake = FakeExecutor::new();
    let run = run_dev(&project, &fake, "local", false);
    run.ok().ran_on(LOCAL, "docker buildx build --output=type=local --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:999-dirty -t dhh/app:latest-dirty --label service=\"app\" --file Dockerfile . 2>&1");
}

#[test]
fn dev_with_no_cache() {
    let project = dev_project();
    let fake = FakeExecutor::new();
    let run = run_dev(&project, &fake, "docker", true);
    run.ok().ran_on(LOCAL, "docker buildx build --output=type=docker --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:999-dirty -t dhh/app:latest-dirty --label service=\"app\" --file Dockerfile --no-cache . 2>&1");
}

#[test]
fn dev_warns_of_uncommitted_and_untracked_files_the_context_carries() {
    let project = dev_project();
    project.file("app.rb", "v1").file(".dockerignore", "log/\n");
    project.git_commit();
    project.file("app.rb", "v2").file("new.rb", "x").file("log/dev.log", "x");
    let fake = FakeExecutor::new();
    let run = run_dev(&project, &fake, "docker", false);
    run.ok();
    let output = run.output();
    let uncommitted = "WARNING: Files with uncommitted changes will be present in the dev container:\n  app.rb\n";
    let untracked = "WARNING: Untracked files will be present in the dev container:\n  new.rb\n";
    assert!(output.contains(uncommitted), "{output}");
    assert!(output.contains(untracked), "{output}");
    assert!(!output.contains("dev.log"), "{output}");
}

#[test]
fn dev_without_buildx_builds_dirty_tags_with_the_classic_builder() {
    let project = dev_project();
    let fake = FakeExecutor::new();
    fake.fails("docker buildx version", 1, "docker: 'buildx' is not a docker command.");
    let run = run_dev(&project, &fake, "docker", false);
    run.ok().ran_on(
        LOCAL,
        "docker build -t dhh/app:999-dirty -t dhh/app:latest-dirty --label service=\"app\" --file Dockerfile .",
    );
    let no_buildx = FakeExecutor::new();
    no_buildx.fails("docker buildx version", 1, "docker: 'buildx' is not a docker command.");
    let run = run_dev(&project, &no_buildx, "local", false);
    assert!(run.error().contains("Docker buildx plugin is not installed locally"), "{}", run.error());
}
