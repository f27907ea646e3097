//! Temporary probe (deleted after use).
mod common;
use common::Logs;
use std::io::{Read, Write};
use wharf_plugin_host::{CallOptions, Grant, HookContext, HostConfig, Manifest, PluginHost};
#[tokio::test]
async fn probe() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().take(3) {
            let mut s = s.unwrap();
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap();
            eprintln!("server got: {:?}", String::from_utf8_lossy(&buf[..n]));
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok").unwrap();
        }
    });
    let host = PluginHost::new(HostConfig {
        cache_dir: Some(common::guest_target_dir().join("precompiled")),
        ..HostConfig::default()
    })
    .unwrap();
    let m = Manifest::from_toml(&format!("name = \"probe\"\nversion = \"0.1.0\"\nworld = \"hook\"\napi = \"0.1.0\"\n[capabilities]\nhosts = [\"127.0.0.1:{port}\"]\n"), "probe").unwrap();
    let p = host.load(m, &std::fs::read("/tmp/jsprobe/fetch-sm.wasm").unwrap()).unwrap();
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    let ctx = HookContext { name: "x".into(), env: vec![("URL".into(), format!("http://127.0.0.1:{port}/hook"))] };
    let r = p.run_hook(&ctx, &Grant::new().host(format!("127.0.0.1:{port}")), &opts).await;
    eprintln!("granted: {r:?} {:?}", logs.messages());
    let logs = Logs::default();
    let opts = CallOptions::new().log(logs.sink());
    let r = p.run_hook(&ctx, &Grant::new(), &opts).await;
    eprintln!("denied: {r:?} {:?}", logs.messages());
}
