//! Where the proxy keeps its files: `~/.config/kamal-proxy` (state and ACME certificates), as
//! upstream does; the Unix socket's path is in `rpc`.

use std::path::PathBuf;

pub fn data_dir() -> PathBuf {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let dir = home.join(".config").join("kamal-proxy");
    if std::fs::create_dir_all(&dir).is_ok() {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        dir
    } else {
        std::env::temp_dir()
    }
}

pub fn state_path() -> PathBuf {
    data_dir().join("kamal-proxy.state")
}

pub fn certificate_dir() -> PathBuf {
    data_dir().join("certs")
}
