//! Wharf: one `docker` run that answers several of Kamal's lookups at once, and the parsers of
//! its answer. A deploy asks about the same few containers with seven `docker` runs per host
//! (`docker network create kamal` to find the network there, the proxy's image, whether a
//! container of the new version exists, the running versions, three for the current version); on
//! a busy server every `docker` run costs about 20 ms of CPU. These two ask it all:
//!
//! - [`inspect_containers`]: named containers' id, status, image, and whether they are on the
//!   `kamal` network (kamal-proxy, the new version's containers);
//! - [`list_containers_by_role`](crate::App::list_containers_by_role): the service's running
//!   containers with their role and state, newest first (what Kamal's `docker ps` lists per role).

use crate::cmd;
use crate::cmd::{docker, Cmd};

/// The network Kamal puts kamal-proxy and the app containers on.
pub const NETWORK: &str = "kamal";

/// One line per container: `/<name> <id> <status> <image>[ kamal]`.
const INSPECT_FORMAT: &str = r#"'{{.Name}} {{.Id}} {{.State.Status}} {{.Config.Image}}{{if index .NetworkSettings.Networks "kamal"}} kamal{{end}}'"#;

/// `docker inspect --type container NAME... --format '...'`: the facts of each named container
/// that exists, one line each (see [`ContainerFacts::parse`]); each missing one is an `Error
/// response from daemon: No such container: NAME` line on stderr and makes the exit status 1.
pub fn inspect_containers(names: &[&str]) -> Cmd {
    docker(cmd!["inspect", "--type", "container", names.to_vec(), "--format", INSPECT_FORMAT])
}

/// What [`inspect_containers`] tells about one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerFacts {
    /// Without Docker's leading `/`.
    pub name: String,
    /// The full id (64 hex digits).
    pub id: String,
    /// Docker's state: created, running, paused, restarting, removing, exited, dead.
    pub status: String,
    /// The image it was created from, as given (`repository:tag`).
    pub image: String,
    /// Whether it is on the `kamal` network.
    pub on_kamal_network: bool,
}

impl ContainerFacts {
    /// The containers in [`inspect_containers`]' stdout (lines that are not its lines are left out).
    pub fn parse(stdout: &str) -> Vec<ContainerFacts> {
        stdout
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                let name = words.next()?.strip_prefix('/')?.to_string();
                let id = words.next()?.to_string();
                let status = words.next()?.to_string();
                let image = words.next()?.to_string();
                let on_kamal_network = match words.next() {
                    None => false,
                    Some(NETWORK) => true,
                    Some(_) => return None,
                };
                Some(ContainerFacts { name, id, status, image, on_kamal_network })
            })
            .collect()
    }

    /// The short id (12 characters) that `docker container ls --quiet` prints.
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }

    /// The image's tag, as Kamal reads a proxy's version (`awk -F: '{print $NF}'`).
    pub fn image_tag(&self) -> &str {
        self.image.rsplit(':').next().unwrap_or(&self.image)
    }

    /// Running, and on the `kamal` network: Kamal's `docker network create kamal` and `docker
    /// container start NAME` would change nothing.
    pub fn running_on_kamal_network(&self) -> bool {
        self.status == "running" && self.on_kamal_network
    }
}

/// Whether [`inspect_containers`]' stderr says nothing but that some containers do not exist:
/// then its stdout is the whole answer.
pub fn only_missing_containers(stderr: &str) -> bool {
    stderr.lines().filter(|l| !l.trim().is_empty()).all(|l| l.contains("No such container: "))
}

/// The stderr line Docker gives for a container that does not exist.
pub fn no_such_container(name: &str) -> String {
    format!("Error response from daemon: No such container: {name}\n")
}

/// One line of [`list_containers_by_role`](crate::App::list_containers_by_role): `<role>
/// <state> <name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleContainer {
    pub role: String,
    /// running, paused or restarting (what `docker ps` lists without `--all`).
    pub state: String,
    pub name: String,
}

impl RoleContainer {
    /// The listing's containers, in its order (newest first); `None` if a line is not one.
    pub fn parse(stdout: &str) -> Option<Vec<RoleContainer>> {
        stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let mut words = line.split_whitespace();
                let (role, state, name) = (words.next()?, words.next()?, words.next()?);
                words.next().is_none().then(|| RoleContainer {
                    role: role.into(),
                    state: state.into(),
                    name: name.into(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspected_lines_parse_and_anything_else_is_left_out() {
        let id = "d0f7f3e1f5a104b11c919d5b6171f9762871084f6f514f6bf40af88da86a8185";
        let out = format!(
            "/kamal-proxy {id} running localhost:5000/basecamp/kamal-proxy:v0.9.2 kamal\n\
             /app-web-1 {id} exited app:1\nnot a line\n/x {id} running img other\n"
        );
        let facts = ContainerFacts::parse(&out);
        assert_eq!(facts.len(), 2);
        assert_eq!(facts[0].name, "kamal-proxy");
        assert_eq!(facts[0].image_tag(), "v0.9.2");
        assert!(facts[0].running_on_kamal_network());
        assert_eq!(facts[1].short_id(), "d0f7f3e1f5a1");
        assert!(!facts[1].running_on_kamal_network());
        assert_eq!(ContainerFacts { image: "proxy".into(), ..facts[1].clone() }.image_tag(), "proxy");
    }

    #[test]
    fn only_missing_containers_is_the_whole_answer() {
        assert!(only_missing_containers(""));
        assert!(only_missing_containers(&no_such_container("a")));
        assert!(only_missing_containers("Error: No such container: a\n\n"));
        assert!(!only_missing_containers("Cannot connect to the Docker daemon at unix:///var/run/docker.sock\n"));
    }

    #[test]
    fn role_listing_parses_or_is_not_one() {
        let listed = RoleContainer::parse("web running app-web-2\nworkers paused app-workers-1\n").unwrap();
        assert_eq!(
            listed[1],
            RoleContainer { role: "workers".into(), state: "paused".into(), name: "app-workers-1".into() }
        );
        assert_eq!(RoleContainer::parse("").unwrap(), vec![]);
        assert!(RoleContainer::parse("web running a b\n").is_none());
        assert!(RoleContainer::parse("oops\n").is_none());
    }
}
