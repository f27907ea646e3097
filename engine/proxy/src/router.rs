//! The control plane: deploy, remove, pause, stop, resume and rollout change the service map;
//! every change is saved to the state file, which `run` restores. The file is written (and
//! fsynced) on a blocking thread: a slow disk must not stall the threads that serve requests,
//! which on a one-CPU server are one thread. Deploys follow upstream's
//! order: new targets healthy within the deploy timeout (or nothing changes), then an atomic swap
//! under the map's write lock, then the old targets drain, then the deploy returns.

use crate::acme::{AcmeManager, LETS_ENCRYPT_PRODUCTION};
use crate::load_balancer::LoadBalancer;
use crate::options::{validate_target, DeploymentOptions, ServiceOptions, TargetOptions};
use crate::pages::ErrorPages;
use crate::pause::{PauseController, PauseSnapshot};
use crate::rollout::RolloutController;
use crate::rpc::{DeployArgs, RolloutDeployArgs, ServiceDescription};
use crate::service::{Route, Service, ServiceConfig};
use crate::service_map::ServiceMap;
use crate::state;
use crate::tls::{self, CertLookup, CertSource};
use crate::{log_error, log_info};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub const ERR_SERVICE_NOT_FOUND: &str = "service not found";
pub const ERR_HOST_IN_USE: &str = "host settings conflict with another service";
pub const ERR_ROLLOUT_NOT_SET: &str = "rollout target not set";

/// How long `rollout stop` waits for the rollout targets' requests in flight.
pub const ROLLOUT_STOP_DRAIN: std::time::Duration = std::time::Duration::from_secs(30);

pub struct Router {
    map: RwLock<ServiceMap>,
    state_path: PathBuf,
    /// Orders state writes: each writes a snapshot taken after the previous one was written.
    save_lock: tokio::sync::Mutex<()>,
}

/// One service in the state file: upstream's `marshalledService` layout.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SavedService {
    pub name: String,
    pub options: ServiceOptions,
    pub target_options: TargetOptions,
    pub active_targets: Vec<String>,
    pub active_readers: Vec<String>,
    pub rollout_targets: Vec<String>,
    pub rollout_readers: Vec<String>,
    pub pause_controller: Option<PauseSnapshot>,
    pub rollout_controller: Option<RolloutController>,
    /// Older upstream versions kept one target here.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub active_target: String,
}

impl Router {
    pub fn new(state_path: PathBuf) -> Arc<Self> {
        Arc::new(Self { map: RwLock::new(ServiceMap::default()), state_path, save_lock: tokio::sync::Mutex::new(()) })
    }

    pub fn route(&self, host: &str, path: &str) -> Option<(Arc<Service>, Route)> {
        self.map.read().unwrap().route(host, path)
    }

    fn service(&self, name: &str) -> Result<Arc<Service>, String> {
        self.map.read().unwrap().get(name).ok_or_else(|| ERR_SERVICE_NOT_FOUND.to_string())
    }

    pub async fn deploy(&self, args: DeployArgs) -> Result<(), String> {
        let DeployArgs { service: name, target_urls, reader_urls, service_options, target_options, deployment_options } =
            args;
        let mut options = service_options;
        options.validate().map_err(|e| e.to_string())?;
        options.normalize();
        validate_service_name(&name)?;
        validate_targets(&target_urls, &reader_urls)?;
        if let Some(other) = self.map.read().unwrap().conflict(&name, &options.hosts, &options.path_prefixes) {
            log_error!("Host settings conflict with another service", "service" => other);
            return Err(ERR_HOST_IN_USE.into());
        }
        let config = build_config(options.clone(), target_options)?;
        log_info!("Deploying", "service" => name, "targets" => target_urls, "hosts" => options.hosts, "paths" => options.path_prefixes, "tls" => options.tls_enabled);

        let lb = new_load_balancer(&target_urls, &reader_urls, &config);
        wait_for_health(&lb, &deployment_options).await?;

        let replaced = {
            let mut map = self.map.write().unwrap();
            if let Some(other) = map.conflict(&name, &options.hosts, &options.path_prefixes) {
                lb.dispose();
                log_error!("Host settings conflict with another service", "service" => other);
                return Err(ERR_HOST_IN_USE.into());
            }
            let (service, replaced) = match map.get(&name) {
                Some(service) => {
                    service.set_config(config);
                    let replaced = service.with_slots_mut(|s| std::mem::replace(&mut s.active, lb.clone()));
                    (service, Some(replaced))
                }
                None => (Arc::new(Service::new(&name, config, lb.clone(), PauseController::default())), None),
            };
            map.insert(service);
            replaced
        };
        self.save_state().await;
        if let Some(old) = replaced {
            old.dispose();
            old.drain_all(deployment_options.drain_timeout).await;
        }
        log_info!("Deployed", "service" => name, "targets" => target_urls, "hosts" => options.hosts, "paths" => options.path_prefixes, "tls" => options.tls_enabled);
        Ok(())
    }

    pub async fn rollout_deploy(&self, args: RolloutDeployArgs) -> Result<(), String> {
        let service = self.service(&args.service)?;
        validate_targets(&args.target_urls, &args.reader_urls)?;
        log_info!("Deploying for rollout", "service" => args.service, "targets" => args.target_urls);
        let config = service.config();
        let lb = new_load_balancer(&args.target_urls, &args.reader_urls, &config);
        wait_for_health(&lb, &args.deployment_options).await?;
        let replaced = {
            let _map = self.map.write().unwrap();
            service.with_slots_mut(|s| s.rollout.replace(lb.clone()))
        };
        self.save_state().await;
        if let Some(old) = replaced {
            old.dispose();
            old.drain_all(args.deployment_options.drain_timeout).await;
        }
        log_info!("Deployed for rollout", "service" => args.service, "targets" => args.target_urls);
        Ok(())
    }

    pub async fn rollout_set(&self, name: &str, percentage: u8, allowlist: Vec<String>) -> Result<(), String> {
        let service = self.service(name)?;
        if percentage > 100 {
            return Err("percentage must be between 0 and 100".into());
        }
        service.with_slots_mut(|s| {
            if s.rollout.is_none() {
                return Err(ERR_ROLLOUT_NOT_SET.to_string());
            }
            s.rollout_controller = Some(RolloutController::new(percentage, allowlist.clone()));
            Ok(())
        })?;
        log_info!("Set rollout split", "service" => name, "percentage" => percentage, "allowlist" => allowlist);
        self.save_state().await;
        Ok(())
    }

    /// Everyone back on the active targets. Unlike upstream, the rollout targets are dropped too
    /// (their health checks stop; a new `rollout deploy` is needed before `rollout set`), once
    /// their requests in flight are done or [`ROLLOUT_STOP_DRAIN`] has passed: Wharf's canary
    /// stops the canary container next.
    pub async fn rollout_stop(&self, name: &str) -> Result<(), String> {
        let service = self.service(name)?;
        let dropped = service.with_slots_mut(|s| {
            s.rollout_controller = None;
            s.rollout.take()
        });
        log_info!("Stopped rollout", "service" => name);
        self.save_state().await;
        if let Some(rollout) = dropped {
            rollout.drain_all(ROLLOUT_STOP_DRAIN).await;
            rollout.dispose();
        }
        Ok(())
    }

    pub async fn remove(&self, name: &str) -> Result<(), String> {
        let removed = self.map.write().unwrap().remove(name).ok_or_else(|| ERR_SERVICE_NOT_FOUND.to_string())?;
        removed.dispose();
        log_info!("Removed", "service" => name);
        self.save_state().await;
        Ok(())
    }

    pub async fn pause(&self, name: &str, drain_timeout: Duration, pause_timeout: Duration) -> Result<(), String> {
        let service = self.service(name)?;
        service.pause.pause(pause_timeout);
        self.save_state().await;
        log_info!("Service paused", "service" => name);
        service.drain(drain_timeout).await;
        log_info!("Service drained", "service" => name);
        Ok(())
    }

    pub async fn stop(&self, name: &str, drain_timeout: Duration, message: String) -> Result<(), String> {
        let service = self.service(name)?;
        service.pause.stop(message);
        self.save_state().await;
        log_info!("Service stopped", "service" => name);
        service.drain(drain_timeout).await;
        log_info!("Service drained", "service" => name);
        Ok(())
    }

    pub async fn resume(&self, name: &str) -> Result<(), String> {
        let service = self.service(name)?;
        service.pause.resume();
        self.save_state().await;
        log_info!("Service resumed", "service" => name);
        Ok(())
    }

    pub fn list(&self) -> BTreeMap<String, ServiceDescription> {
        let map = self.map.read().unwrap();
        map.all()
            .map(|service| {
                let options = service.options();
                let host = options.hosts.join(",");
                let targets = service
                    .with_slots(|s| s.active.targets().iter().map(|t| t.address().to_string()).collect::<Vec<_>>());
                let description = ServiceDescription {
                    host: if host.is_empty() { "*".into() } else { host },
                    path: options.path_prefixes.join(","),
                    tls: options.tls_enabled,
                    target: targets.join(","),
                    state: service.pause.state().as_str().into(),
                };
                (service.name.clone(), description)
            })
            .collect()
    }

    /// Each service's (or only `service`'s) counters per cohort.
    pub fn stats(
        &self,
        service: Option<&str>,
    ) -> Result<BTreeMap<String, crate::cohort_stats::ServiceSnapshot>, String> {
        let map = self.map.read().unwrap();
        let stats: BTreeMap<_, _> = map
            .all()
            .filter(|s| service.is_none_or(|name| s.name == name))
            .map(|s| (s.name.clone(), s.stats.snapshot()))
            .collect();
        match service {
            Some(_) if stats.is_empty() => Err(ERR_SERVICE_NOT_FOUND.into()),
            _ => Ok(stats),
        }
    }

    fn snapshot(&self) -> Vec<SavedService> {
        let map = self.map.read().unwrap();
        map.all()
            .map(|service| {
                let config = service.config();
                service.with_slots(|s| SavedService {
                    name: service.name.clone(),
                    options: config.options.clone(),
                    target_options: (*config.target_options).clone(),
                    active_targets: s.active.writer_names(),
                    active_readers: s.active.reader_names(),
                    rollout_targets: s.rollout.as_ref().map(|r| r.writer_names()).unwrap_or_default(),
                    rollout_readers: s.rollout.as_ref().map(|r| r.reader_names()).unwrap_or_default(),
                    pause_controller: Some(service.pause.snapshot()),
                    rollout_controller: s.rollout_controller.clone(),
                    active_target: String::new(),
                })
            })
            .collect()
    }

    /// Writes the state file atomically; a failure is logged, not fatal (the change is live).
    pub async fn save_state(&self) {
        let _guard = self.save_lock.lock().await;
        let snapshot = self.snapshot();
        let path = self.state_path.clone();
        let written = tokio::task::spawn_blocking(move || state::write_atomically(&path, &snapshot))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        match written {
            Ok(()) => crate::log_debug!("Saved state", "path" => self.state_path.display().to_string()),
            Err(e) => {
                log_error!("Unable to save state", "path" => self.state_path.display().to_string(), "error" => e.to_string())
            }
        }
    }

    /// Restores the saved services. Their targets are health-checked again before they get
    /// traffic; the returned load balancers are the ones to wait for.
    pub fn restore_state(&self) -> Result<Vec<Arc<LoadBalancer>>, String> {
        let saved: Vec<SavedService> = match state::read(&self.state_path) {
            Ok(Some(s)) => s,
            Ok(None) => {
                log_info!("No previous state to restore", "path" => self.state_path.display().to_string());
                return Ok(vec![]);
            }
            Err(e) => {
                log_error!("Failed to restore saved state", "path" => self.state_path.display().to_string(), "error" => e);
                return Err(e);
            }
        };
        let mut waits = vec![];
        let mut map = self.map.write().unwrap();
        for mut s in saved {
            if s.active_targets.is_empty() && !s.active_target.is_empty() {
                s.active_targets = vec![s.active_target.clone()];
            }
            s.options.normalize();
            let config = match build_config(s.options.clone(), s.target_options.clone()) {
                Ok(c) => c,
                Err(e) => {
                    log_error!("Failed to restore service", "service" => s.name, "error" => e);
                    continue;
                }
            };
            let active = new_load_balancer(&s.active_targets, &s.active_readers, &config);
            waits.push(active.clone());
            let rollout = (!s.rollout_targets.is_empty())
                .then(|| new_load_balancer(&s.rollout_targets, &s.rollout_readers, &config));
            if let Some(r) = &rollout {
                waits.push(r.clone());
            }
            let pause = s.pause_controller.as_ref().map(PauseController::from_snapshot).unwrap_or_default();
            let service = Arc::new(Service::new(&s.name, config, active, pause));
            service.with_slots_mut(|slots| {
                slots.rollout = rollout;
                slots.rollout_controller = s.rollout_controller.clone();
            });
            map.insert(service);
        }
        log_info!("Restored saved state", "path" => self.state_path.display().to_string());
        Ok(waits)
    }
}

impl CertLookup for Router {
    fn cert_source(&self, host: &str) -> Option<CertSource> {
        let service = self.map.read().unwrap().service_for_host(host)?;
        service.config().certs.clone()
    }

    fn default_tls_hostname(&self) -> String {
        self.map.read().unwrap().default_tls_hostname().to_string()
    }
}

fn validate_service_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("service name must not be empty".into());
    }
    Ok(())
}

fn validate_targets(writers: &[String], readers: &[String]) -> Result<(), String> {
    if writers.is_empty() {
        return Err("at least one target is required".into());
    }
    writers.iter().chain(readers).try_for_each(|t| validate_target(t))
}

fn new_load_balancer(writers: &[String], readers: &[String], config: &ServiceConfig) -> Arc<LoadBalancer> {
    let lb = LoadBalancer::new(
        writers,
        readers,
        config.target_options.clone(),
        config.options.writer_affinity_timeout,
        config.options.read_targets_accept_websockets,
    );
    lb.begin_health_checks();
    lb
}

async fn wait_for_health(lb: &Arc<LoadBalancer>, deployment: &DeploymentOptions) -> Result<(), String> {
    if deployment.force {
        return Ok(());
    }
    if let Err(e) = lb.wait_until_healthy(deployment.deploy_timeout).await {
        lb.dispose();
        return Err(e);
    }
    Ok(())
}

/// Validates and loads what a deploy's options refer to (error pages, certificates).
fn build_config(options: ServiceOptions, target_options: TargetOptions) -> Result<ServiceConfig, String> {
    let pages = if options.error_page_path.is_empty() {
        None
    } else {
        Some(ErrorPages::load(std::path::Path::new(&options.error_page_path))?)
    };
    let certs = if !options.tls_enabled {
        None
    } else if !options.tls_certificate_path.is_empty() && !options.tls_private_key_path.is_empty() {
        Some(CertSource::Static(tls::load_static(&options.tls_certificate_path, &options.tls_private_key_path)?))
    } else {
        if options.hosts.iter().any(|h| h.contains('*')) {
            return Err("automatic TLS does not support wildcards".into());
        }
        let directory = if options.acme_directory.is_empty() {
            LETS_ENCRYPT_PRODUCTION.to_string()
        } else {
            options.acme_directory.clone()
        };
        let cache = if options.acme_cache_path.is_empty() {
            crate::paths::certificate_dir()
        } else {
            PathBuf::from(&options.acme_cache_path)
        };
        let mut manager = AcmeManager::new(cache, directory, options.hosts.clone());
        if let Some(pem) = std::env::var_os("SSL_CERT_FILE").and_then(|p| std::fs::read(p).ok()) {
            manager = manager.with_directory_root_pem(pem);
        }
        Some(CertSource::Acme(Arc::new(manager)))
    };
    Ok(ServiceConfig { options, target_options: Arc::new(target_options), pages, certs })
}
