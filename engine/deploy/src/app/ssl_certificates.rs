//! Kamal's `Cli::App::SslCertificates`: a proxied role whose `proxy.ssl` names a
//! `certificate_pem` and a `private_key_pem` secret gets both PEMs written to the host's
//! `.kamal/proxy/apps-config/<app>/tls/<role>/{cert,key}.pem`, where kamal-proxy reads them
//! (`--tls-certificate-path`, `--tls-private-key-path` in `kamal-proxy deploy`).
//!
//! The certificate is written 0644, as Kamal does. The private key is not: Kamal writes it 0644
//! too (so that the proxy, which runs as its own user in its container, can read it), which lets
//! every user on the server read it. Wharf writes it 0600 and gives it to the user the running
//! proxy process is (read from `/proc/<pid>/status`, so it is right whatever the image's user or a
//! user-namespace mapping). Where that cannot be done (an SSH user that is not root, no running
//! proxy), the key is made 0644 as with Kamal, and a warning says why.

use crate::commander::Commander;
use crate::error::Result;
use crate::output;
use wharf_commands::{cmd, App, Cmd};
use wharf_config::Role;

/// `upload!(..., mode: "0644")`, Kamal's mode for the certificate.
const CERT_MODE: u32 = 0o644;
/// The private key: its owner (the proxy's user) alone reads it.
const KEY_MODE: u32 = 0o600;

/// `Kamal::Cli::App::SslCertificates#run` for `role` on `host`.
pub async fn run(c: &Commander, host: &str, role: &Role) -> Result<()> {
    let Some(proxy) = role.proxy().filter(|p| role.running_proxy() && p.custom_ssl_certificate()) else {
        return Ok(());
    };
    output::info(host, &format!("Writing SSL certificates for {} on {host}", role.name()));
    let app = App::new(&c.config, Some(role), Some(host));
    c.exec(host, &app.create_ssl_directory()).await?;
    if let (Some(cert), Some(path)) = (proxy.certificate_pem_content()?, proxy.host_tls_cert()) {
        c.upload(host, cert.as_bytes(), &path, CERT_MODE).await?;
    }
    if let (Some(key), Some(path)) = (proxy.private_key_pem_content()?, proxy.host_tls_key()) {
        c.upload(host, key.as_bytes(), &path, KEY_MODE).await?;
        let container = c.config.proxy_boot().container_name();
        if let Err(e) = c.exec(host, &give_to_proxy_user(container, &path)).await {
            output::warn(
                host,
                &format!(
                    "Could not give {path} to the user {container} runs as ({}); making it readable by all (0644), as Kamal does",
                    e.message.lines().next().unwrap_or_default()
                ),
            );
            c.exec(host, &cmd!["chmod", "644", path]).await?;
        }
    }
    Ok(())
}

/// `chown`s `path` to the uid:gid of the running `container`'s main process.
fn give_to_proxy_user(container: &str, path: &str) -> Cmd {
    cmd![
        format!("pid=$(docker inspect --format '{{{{.State.Pid}}}}' {container})"),
        "&&",
        "[",
        "\"${pid:-0}\"",
        "-gt",
        "0",
        "]",
        "&&",
        format!("chown \"$(awk '/^Uid:/{{u=$2}} /^Gid:/{{g=$2}} END{{print u\":\"g}}' /proc/$pid/status)\""),
        path
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_key_goes_to_the_proxy_process_user() {
        assert_eq!(
            super::give_to_proxy_user("kamal-proxy", "k.pem").to_string(),
            "pid=$(docker inspect --format '{{.State.Pid}}' kamal-proxy) && [ \"${pid:-0}\" -gt 0 ] && \
             chown \"$(awk '/^Uid:/{u=$2} /^Gid:/{g=$2} END{print u\":\"g}' /proc/$pid/status)\" k.pem"
        );
    }
}
