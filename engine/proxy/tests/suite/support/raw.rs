//! Raw HTTP/1.1 over a plain TCP socket: what a misbehaving or slow client sends, byte for byte,
//! and what the proxy answers or whether it hangs up.

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub async fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Sends `request` on a new connection and reads until the proxy closes it (or `limit` passes).
pub async fn exchange(port: u16, request: &[u8], limit: Duration) -> String {
    let mut s = connect(port).await;
    s.write_all(request).await.unwrap();
    String::from_utf8_lossy(&read_until_closed(&mut s, limit).await.0).to_string()
}

/// Reads until EOF, a reset or `limit`; returns what was read and whether the peer closed.
pub async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + limit;
    let mut out = vec![];
    let mut buf = [0u8; 65536];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return (out, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one response with a `Content-Length` body; returns its status line, headers and body.
pub async fn read_response(s: &mut TcpStream) -> (String, String) {
    let mut data = vec![];
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = find(&data, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0);
            while data.len() < end + 4 + length {
                let n = s.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed mid-body: {head}");
                data.extend_from_slice(&buf[..n]);
            }
            return (head, String::from_utf8_lossy(&data[end + 4..end + 4 + length]).to_string());
        }
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await.expect("a response").unwrap();
        assert!(n > 0, "closed before a response: {:?}", String::from_utf8_lossy(&data));
        data.extend_from_slice(&buf[..n]);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The status code of a raw response (`HTTP/1.1 400 Bad Request` -> 400); 0 if none.
pub fn status(response: &str) -> u16 {
    response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}
