//! The limits `kamal-proxy run` puts on client connections, with defaults near nginx's:
//! the time a client has to send a request's headers (`client_header_timeout` 60s), how long a
//! keep-alive connection may sit idle (`keepalive_timeout` 75s), the longest pause while sending a
//! request body (`client_body_timeout` 60s) or while reading the response (`send_timeout` 60s),
//! and how many client connections may be open at once. Zero turns a limit off.

use std::time::Duration;

pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_MAX_CONNECTIONS: usize = 16_384;

/// File descriptors kept free for everything that is not a client connection (listeners, the
/// command socket, state and certificate files, health checks).
const RESERVED_FDS: u64 = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From a connection's first byte of a request (or its accept) to the request's last header.
    pub header_timeout: Duration,
    /// Between the end of a response and the first byte of the next request.
    pub idle_timeout: Duration,
    /// The longest wait for the next piece of a request body.
    pub body_timeout: Duration,
    /// The longest wait for the client to take more of the response.
    pub write_timeout: Duration,
    /// Open client connections (HTTP and HTTPS together); 0: no limit.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// A timeout as an `Option`: zero means none.
pub fn enabled(timeout: Duration) -> Option<Duration> {
    (!timeout.is_zero()).then_some(timeout)
}

/// Raises the soft limit on open files to the hard limit, as Go does at startup (so upstream's
/// proxy gets it too), and returns how many client connections fit in it: each may need a second
/// descriptor for its connection to the target.
pub fn raise_file_limit() -> Option<usize> {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
        if limit.rlim_cur == libc::RLIM_INFINITY {
            return Some(usize::MAX);
        }
        Some((limit.rlim_cur.saturating_sub(RESERVED_FDS) / 2) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_nginx_like() {
        let l = Limits::default();
        assert_eq!(l.header_timeout, Duration::from_secs(60));
        assert_eq!(l.idle_timeout, Duration::from_secs(75));
        assert_eq!(l.body_timeout, Duration::from_secs(60));
        assert_eq!(l.write_timeout, Duration::from_secs(60));
        assert_eq!(enabled(Duration::ZERO), None);
    }

    #[test]
    fn the_file_limit_leaves_room_for_target_connections() {
        let fits = raise_file_limit().expect("getrlimit");
        // SAFETY: getrlimit only writes the struct passed to it.
        let limit = unsafe {
            let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
            limit
        };
        assert_eq!(limit.rlim_cur, limit.rlim_max, "the soft limit was raised to the hard one");
        if limit.rlim_cur == libc::RLIM_INFINITY {
            assert_eq!(fits, usize::MAX);
        } else {
            assert_eq!(fits as u64, limit.rlim_cur.saturating_sub(RESERVED_FDS) / 2);
        }
    }
}
