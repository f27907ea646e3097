//! Kamal's `Cli::App::SslCertificates`: a proxied role whose `proxy.ssl` names a
//! `certificate_pem` and a `private_key_pem` secret gets both PEMs written to the host's
//! `.kamal/proxy/apps-config/<app>/tls/<role>/{cert,key}.pem` (mode 0644), where kamal-proxy
//! reads them (`--tls-certificate-path`, `--tls-private-key-path` in `kamal-proxy deploy`).

use crate::commander::Commander;
use crate::error::Result;
use crate::output;
use wharf_commands::App;
use wharf_config::Role;

/// `upload!(..., mode: "0644")`.
const PEM_MODE: u32 = 0o644;

/// `Kamal::Cli::App::SslCertificates#run` for `role` on `host`.
pub async fn run(c: &Commander, host: &str, role: &Role) -> Result<()> {
    let Some(proxy) = role.proxy().filter(|p| role.running_proxy() && p.custom_ssl_certificate()) else {
        return Ok(());
    };
    output::info(host, &format!("Writing SSL certificates for {} on {host}", role.name()));
    let app = App::new(&c.config, Some(role), Some(host));
    c.exec(host, &app.create_ssl_directory()).await?;
    if let (Some(cert), Some(path)) = (proxy.certificate_pem_content()?, proxy.host_tls_cert()) {
        c.upload(host, cert.as_bytes(), &path, PEM_MODE).await?;
    }
    if let (Some(key), Some(path)) = (proxy.private_key_pem_content()?, proxy.host_tls_key()) {
        c.upload(host, key.as_bytes(), &path, PEM_MODE).await?;
    }
    Ok(())
}
