//! Tries to open a TCP connection to `TARGET` (an `ip:port`), to resolve `localhost`, and to
//! send a UDP datagram. Fails (reporting the escape) if anything worked; succeeds, logging each
//! refusal, if the network is off.

use std::net::{TcpStream, ToSocketAddrs, UdpSocket};

use wharf_plugin_sdk::{Context, Hook};

struct NetConnect;

impl Hook for NetConnect {
    fn run(ctx: &Context) -> Result<(), String> {
        let target = ctx.get("TARGET").ok_or("TARGET is not set")?;
        let mut escapes = vec![];
        match TcpStream::connect(target) {
            Ok(_) => escapes.push(format!("connected to {target}")),
            Err(e) => wharf_plugin_sdk::info!("tcp connect {target}: {e}"),
        }
        match "localhost:80".to_socket_addrs() {
            Ok(addrs) => escapes.push(format!("resolved localhost to {:?}", addrs.collect::<Vec<_>>())),
            Err(e) => wharf_plugin_sdk::info!("resolve localhost: {e}"),
        }
        match UdpSocket::bind("0.0.0.0:0").and_then(|s| s.send_to(b"x", target)) {
            Ok(_) => escapes.push(format!("sent a datagram to {target}")),
            Err(e) => wharf_plugin_sdk::info!("udp send {target}: {e}"),
        }
        if escapes.is_empty() {
            Ok(())
        } else {
            Err(format!("network reachable: {}", escapes.join("; ")))
        }
    }
}

wharf_plugin_sdk::export_hook!(NetConnect);
