//! `proxy boot_config set|get|reset` (Kamal's deprecated way to configure the proxy container,
//! kept because servers carry its files): the files under `.kamal/proxy/` (`options`, `image`,
//! `image_version`, `run_command`) that the proxy's `docker run` reads when deploy.yml has no
//! `proxy.run`. `set` writes the ones that differ from the defaults and removes the others.

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::output;
use wharf_commands::proxy::Proxy;
use wharf_config::utils::optionize;

/// `boot_config set`'s options (Kamal's defaults: publish on 80 and 443, logs capped at 10m).
#[derive(Clone, Debug)]
pub struct SetOptions {
    pub publish: bool,
    pub publish_host_ip: Vec<String>,
    pub http_port: u16,
    pub https_port: u16,
    pub log_max_size: String,
    pub registry: Option<String>,
    pub repository: Option<String>,
    pub image_version: Option<String>,
    pub metrics_port: Option<u16>,
    pub debug: bool,
    /// `option=value` each, written as `--option=value`.
    pub docker_options: Vec<String>,
}

impl Default for SetOptions {
    fn default() -> Self {
        SetOptions {
            publish: true,
            publish_host_ip: vec![],
            http_port: 80,
            https_port: 443,
            log_max_size: "10m".into(),
            registry: None,
            repository: None,
            image_version: None,
            metrics_port: None,
            debug: false,
            docker_options: vec![],
        }
    }
}

/// `boot_config SUBCOMMAND`.
pub enum Subcommand {
    Set(SetOptions),
    Get,
    Reset,
}

impl Subcommand {
    /// From the command line's word (`set`, `get`, `reset`); anything else is Kamal's
    /// `ArgumentError`.
    pub fn parse(word: &str, set: SetOptions) -> Result<Subcommand> {
        match word {
            "set" => Ok(Subcommand::Set(set)),
            "get" => Ok(Subcommand::Get),
            "reset" => Ok(Subcommand::Reset),
            other => Err(CliError::new("ArgumentError", format!("Unknown boot_config subcommand {other}"))),
        }
    }
}

pub async fn boot_config(c: &Commander, subcommand: Subcommand) -> Result<()> {
    output::say("The proxy boot_config command is deprecated - set the config in the deploy YAML at proxy/run instead");
    match subcommand {
        Subcommand::Set(options) => set(c, &options).await,
        Subcommand::Get => {
            let hosts = c.proxy_hosts();
            let answers = c
                .on(&hosts, |h| async move {
                    let proxy = Proxy::new(&c.config, &h);
                    c.capture(&h, &proxy.boot_config()).await
                })
                .await?;
            for h in &hosts {
                if let Some((_, answer)) = answers.iter().find(|(host, _)| host == h) {
                    output::line(&format!("Host {h}: {answer}"));
                }
            }
            Ok(())
        }
        Subcommand::Reset => {
            c.on(&c.proxy_hosts(), |h| async move {
                let proxy = Proxy::new(&c.config, &h);
                for reset in [
                    proxy.reset_boot_options(),
                    proxy.reset_image(),
                    proxy.reset_image_version(),
                    proxy.reset_run_command(),
                ] {
                    c.exec_unchecked(&h, &reset).await?;
                }
                Ok(())
            })
            .await?;
            Ok(())
        }
    }
}

/// The four files' contents (`None`: the default, so the file is removed).
struct Files {
    options: Option<String>,
    image: Option<String>,
    image_version: Option<String>,
    run_command: Option<String>,
}

fn files(c: &Commander, o: &SetOptions) -> Result<Files> {
    let boot = c.config.proxy_boot();
    let mut options = vec![];
    if o.publish {
        let ips = (!o.publish_host_ip.is_empty()).then_some(o.publish_host_ip.as_slice());
        options.push(boot.publish_args(&o.http_port.to_string(), &o.https_port.to_string(), ips)?);
    }
    options.extend(boot.logging_args(&o.log_max_size).unwrap_or_default());
    if let Some(port) = o.metrics_port {
        options.push(format!("--expose={port}"));
    }
    options.extend(o.docker_options.iter().map(|option| format!("--{option}")));
    let image = [
        o.registry.clone().filter(|r| !r.trim().is_empty()),
        Some(o.repository.clone().filter(|r| !r.trim().is_empty()).unwrap_or_else(|| boot.repository_name().into())),
        Some(boot.image_name().to_string()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("/");
    let mut run_options: Vec<(String, serde_yaml::Value)> = vec![];
    if o.debug {
        run_options.push(("debug".into(), serde_yaml::Value::Bool(true)));
    }
    if let Some(port) = o.metrics_port {
        run_options.push(("metrics-port".into(), serde_yaml::Value::Number(port.into())));
    }
    let run_command = (!run_options.is_empty()).then(|| {
        format!("kamal-proxy run {}", optionize(run_options.iter().map(|(k, v)| (k.clone(), v)), None).join(" "))
    });
    Ok(Files {
        options: (options != boot.default_boot_options()).then(|| options.join(" ")),
        image: (image != boot.image_default()).then_some(image),
        image_version: o.image_version.clone(),
        run_command,
    })
}

async fn set(c: &Commander, o: &SetOptions) -> Result<()> {
    let files = files(c, o)?;
    let files = &files;
    let boot = c.config.proxy_boot();
    let boot = &boot;
    c.on(&c.proxy_hosts(), |h| async move {
        let proxy = Proxy::new(&c.config, &h);
        c.exec(&h, &proxy.ensure_proxy_directory()).await?;
        let each = [
            (&files.options, boot.options_file(), proxy.reset_boot_options()),
            (&files.image, boot.image_file(), proxy.reset_image()),
            (&files.image_version, boot.image_version_file(), proxy.reset_image_version()),
            (&files.run_command, boot.run_command_file(), proxy.reset_run_command()),
        ];
        for (content, path, reset) in each {
            match content {
                Some(content) => c.upload(&h, content.as_bytes(), &path, 0o644).await?,
                None => {
                    c.exec_unchecked(&h, &reset).await?;
                }
            }
        }
        Ok(())
    })
    .await?;
    Ok(())
}
