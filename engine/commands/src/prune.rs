//! `Kamal::Commands::Prune`: removing old images and stopped containers of the app.

use crate::cmd::{docker, grep, pipe, Cmd};
use crate::{cmd, parts};
use wharf_config::Configuration;

/// The prune commands.
#[derive(Debug, Clone)]
pub struct Prune<'a> {
    config: &'a Configuration,
}

impl<'a> Prune<'a> {
    /// `Kamal::Commands::Prune.new(config)`.
    pub fn new(config: &'a Configuration) -> Prune<'a> {
        Prune { config }
    }

    /// `dangling_images`: `docker image prune --force --filter label=service=<service>`.
    pub fn dangling_images(&self) -> Cmd {
        docker(cmd!["image", "prune", "--force", "--filter", format!("label=service={}", self.config.service())])
    }

    /// `tagged_images`: removes the tagged images no container uses (keeping `latest`).
    pub fn tagged_images(&self) -> Cmd {
        pipe(parts![
            docker(cmd!["image", "ls", self.service_filter(), "--format", "'{{.ID}} {{.Repository}}:{{.Tag}}'"]),
            grep(cmd![format!("-v -w \"{}\"", self.active_image_list())]),
            "while read image tag; do docker rmi $tag; done"
        ])
    }

    /// `app_containers(retain:)`: removes stopped containers beyond the newest `retain`.
    pub fn app_containers(&self, retain: u64) -> Cmd {
        pipe(parts![
            docker(cmd!["ps", "-q", "-a", self.service_filter(), self.stopped_containers_filters()]),
            format!("tail -n +{}", retain + 1),
            "while read container_id; do docker rm $container_id; done"
        ])
    }

    fn stopped_containers_filters(&self) -> Cmd {
        let mut c = Cmd::new();
        for status in ["created", "exited", "dead"] {
            c.push(cmd!["--filter", format!("status={status}")]);
        }
        c
    }

    fn active_image_list(&self) -> String {
        format!(
            "$(docker container ls -a --format '{{{{.Image}}}}\\|' --filter label=service={} | tr -d '\\n'){}\\|{}:<none>",
            self.config.service(),
            self.config.latest_image(),
            self.config.repository()
        )
    }

    fn service_filter(&self) -> Cmd {
        cmd!["--filter", format!("label=service={}", self.config.service())]
    }
}
