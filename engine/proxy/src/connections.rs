//! Every open client connection and what it is doing, so that stalled ones are closed and the
//! number open stays under `--max-connections`.
//!
//! A connection is in one of these phases:
//! - `Headers`: accepted, or a request's first byte has arrived, and the request is not complete
//!   yet. Closed after `--http-header-timeout` (counted from the accept or from that first byte,
//!   so a client that dribbles header lines does not reset it: nginx's `client_header_timeout`).
//! - `Waiting`: between requests on a keep-alive connection. Closed after `--http-idle-timeout`.
//! - `Active`: requests in flight (the response may still be streaming). No connection timeout;
//!   the request body and the response writes have their own (`client_body`, `tracked_io`).
//! - `Upgraded`: a websocket or other upgraded connection, handed to its target.
//!
//! At the cap, a new connection evicts the connection that has spent longest in `Headers` or
//! `Waiting` (nginx closes idle keep-alive connections the same way when it runs out), passing
//! over one whose client has sent bytes the proxy has not read yet (a live client the proxy has
//! not got to, not a stalled one) and one whose request began less than [`EVICTION_GRACE`] ago
//! (a client that has just connected and whose request is still on its way); with none to
//! evict, the proxy stops accepting until one closes or passes its grace, and new clients wait
//! in the kernel's accept queue.

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::limits::{enabled, Limits};

/// How long a connection in `Headers` is safe from eviction: a client's request follows its
/// connect within a round trip, but a busy client or proxy can take longer to get it read. Never
/// more than the header timeout.
pub const EVICTION_GRACE: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Headers,
    Waiting,
    Active,
    Upgraded,
    /// Chosen for eviction; closing.
    Evicted,
    /// Its socket is closed.
    Gone,
}

impl Phase {
    fn evictable(self) -> bool {
        matches!(self, Phase::Headers | Phase::Waiting)
    }
}

/// Why a connection was closed by the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    HeaderTimeout,
    IdleTimeout,
    Evicted,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::HeaderTimeout => "request headers not received in time",
            CloseReason::IdleTimeout => "idle keep-alive connection",
            CloseReason::Evicted => "connection limit reached; closed the longest-waiting connection",
        }
    }
}

struct State {
    phase: Phase,
    /// When the phase began (what its timeout counts from).
    since: Instant,
    in_flight: usize,
}

impl State {
    /// From when this connection may be evicted: a `Waiting` one at once, one in `Headers` once
    /// its grace has passed, any other never.
    fn eviction_eligible_at(&self, grace: Duration) -> Option<Instant> {
        match self.phase {
            Phase::Waiting => Some(self.since),
            Phase::Headers => Some(self.since + grace),
            _ => None,
        }
    }
}

/// One client connection.
pub struct Conn {
    id: u64,
    /// The socket, to ask the kernel whether the client has sent unread bytes.
    fd: Option<RawFd>,
    table: Arc<Shared>,
    state: Mutex<State>,
    /// `phase == Waiting`, readable without the lock on every read.
    waiting: AtomicBool,
    evict: CancellationToken,
}

struct Shared {
    limits: Limits,
    open: AtomicUsize,
    evictable: AtomicUsize,
    next_id: AtomicU64,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    /// A connection closed or became evictable.
    room: Notify,
}

/// The open connections of both listeners.
#[derive(Clone)]
pub struct Table(Arc<Shared>);

impl Table {
    pub fn new(limits: Limits) -> Self {
        Table(Arc::new(Shared {
            limits,
            open: AtomicUsize::new(0),
            evictable: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            conns: Mutex::new(HashMap::new()),
            room: Notify::new(),
        }))
    }

    pub fn limits(&self) -> &Limits {
        &self.0.limits
    }

    pub fn open(&self) -> usize {
        self.0.open.load(Ordering::SeqCst)
    }

    fn at_cap(&self) -> bool {
        let max = self.0.limits.max_connections;
        max != 0 && self.open() >= max
    }

    /// How long a connection in `Headers` is kept from eviction.
    fn grace(&self) -> Duration {
        match enabled(self.0.limits.header_timeout) {
            Some(t) => EVICTION_GRACE.min(t),
            None => EVICTION_GRACE,
        }
    }

    /// Returns once a new connection may be accepted: under the cap, or with a connection to
    /// evict for it (one past its grace).
    pub async fn wait_for_room(&self) {
        loop {
            let room = self.0.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if !self.at_cap() {
                return;
            }
            if self.0.evictable.load(Ordering::SeqCst) == 0 {
                room.await;
                continue;
            }
            // Some are evictable: now, or once the youngest's grace has passed.
            let now = Instant::now();
            let grace = self.grace();
            let eligible_at = {
                let conns = self.0.conns.lock().unwrap();
                conns.values().filter_map(|c| c.state.lock().unwrap().eviction_eligible_at(grace)).min()
            };
            match eligible_at {
                Some(at) if at <= now => return,
                Some(at) => {
                    tokio::select! {
                        _ = room => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => room.await,
            }
        }
    }

    /// Registers a just-accepted connection (in `Headers`: its request is due within the header
    /// timeout); at the cap, evicts the longest-waiting one. Dropping the `Slot` unregisters it.
    pub fn admit(&self, fd: Option<RawFd>) -> Slot {
        let evict_one = self.at_cap();
        let shared = &self.0;
        let conn = Arc::new(Conn {
            id: shared.next_id.fetch_add(1, Ordering::Relaxed),
            fd,
            table: shared.clone(),
            state: Mutex::new(State { phase: Phase::Headers, since: Instant::now(), in_flight: 0 }),
            waiting: AtomicBool::new(false),
            evict: CancellationToken::new(),
        });
        let mut conns = shared.conns.lock().unwrap();
        if evict_one {
            evict_longest_waiting(&conns, self.grace());
        }
        shared.open.fetch_add(1, Ordering::SeqCst);
        shared.evictable.fetch_add(1, Ordering::SeqCst);
        conns.insert(conn.id, conn.clone());
        drop(conns);
        Slot(conn)
    }
}

/// Marks the connection that has spent longest in `Headers` or `Waiting` for closing, passing
/// over those with unread bytes from their client and those still in their grace.
fn evict_longest_waiting(conns: &HashMap<u64, Arc<Conn>>, grace: Duration) {
    let now = Instant::now();
    let mut passed_over: Vec<u64> = vec![];
    loop {
        let oldest = conns
            .values()
            .filter(|c| !passed_over.contains(&c.id))
            .filter_map(|c| {
                let s = c.state.lock().unwrap();
                let eligible = s.eviction_eligible_at(grace).is_some_and(|at| at <= now);
                eligible.then_some((s.since, c))
            })
            .min_by_key(|(since, _)| *since)
            .map(|(_, c)| c.clone());
        let Some(conn) = oldest else { return };
        if conn.fd.is_some_and(has_unread_bytes) && passed_over.len() < 64 {
            passed_over.push(conn.id);
            continue;
        }
        conn.shift(&mut conn.state.lock().unwrap(), Phase::Evicted);
        conn.evict.cancel();
        return;
    }
}

/// Whether the kernel holds bytes from the client that the proxy has not read.
fn has_unread_bytes(fd: RawFd) -> bool {
    let mut pending: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int; a closed or reused descriptor makes it fail or answer for
    // another socket, which only changes which connection is evicted.
    let ok = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut pending) } == 0;
    ok && pending > 0
}

/// A connection's place in the table, held by its socket; dropping it frees the place.
pub struct Slot(Arc<Conn>);

impl Slot {
    pub fn conn(&self) -> &Arc<Conn> {
        &self.0
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let conn = &self.0;
        let shared = &conn.table;
        conn.shift(&mut conn.state.lock().unwrap(), Phase::Gone);
        shared.conns.lock().unwrap().remove(&conn.id);
        shared.open.fetch_sub(1, Ordering::SeqCst);
        shared.room.notify_waiters();
    }
}

impl Conn {
    /// Moves to `phase` (the caller holds the state lock), keeping the table's count of
    /// evictable connections right. Returns whether the connection became evictable.
    fn shift(&self, s: &mut State, phase: Phase) -> bool {
        let before = s.phase;
        s.phase = phase;
        s.since = Instant::now();
        self.waiting.store(phase == Phase::Waiting, Ordering::Release);
        match (before.evictable(), phase.evictable()) {
            (true, false) => {
                self.table.evictable.fetch_sub(1, Ordering::SeqCst);
                false
            }
            (false, true) => {
                self.table.evictable.fetch_add(1, Ordering::SeqCst);
                true
            }
            _ => false,
        }
    }

    /// Bytes arrived from the client: between requests, the next request has begun.
    pub fn on_read(&self) {
        if !self.waiting.load(Ordering::Acquire) {
            return;
        }
        let began = {
            let mut s = self.state.lock().unwrap();
            let began = s.phase == Phase::Waiting;
            if began {
                s.phase = Phase::Headers;
                s.since = Instant::now();
            }
            began
        };
        if began {
            self.waiting.store(false, Ordering::Release);
        }
    }

    /// A request was read and is being handled; the connection is busy until the guard drops
    /// (when its response has been sent, or abandoned).
    pub fn begin_request(self: &Arc<Self>) -> RequestGuard {
        let mut s = self.state.lock().unwrap();
        s.in_flight += 1;
        if s.phase.evictable() {
            self.shift(&mut s, Phase::Active);
        }
        RequestGuard(Some(self.clone()))
    }

    /// The connection now belongs to an upgraded protocol (a websocket): no more HTTP timeouts,
    /// and it is never evicted.
    pub fn upgraded(&self) {
        let mut s = self.state.lock().unwrap();
        if s.phase == Phase::Active {
            s.phase = Phase::Upgraded;
        }
    }

    fn request_ended(&self) {
        let mut s = self.state.lock().unwrap();
        s.in_flight = s.in_flight.saturating_sub(1);
        if s.in_flight == 0 && s.phase == Phase::Active {
            self.shift(&mut s, Phase::Waiting);
            drop(s);
            self.table.room.notify_waiters();
        }
    }

    /// The deadline of the current phase, if it has one.
    fn deadline(&self) -> Option<(Instant, CloseReason)> {
        let limits = &self.table.limits;
        let s = self.state.lock().unwrap();
        let (timeout, why) = match s.phase {
            Phase::Headers => (limits.header_timeout, CloseReason::HeaderTimeout),
            Phase::Waiting => (limits.idle_timeout, CloseReason::IdleTimeout),
            Phase::Active | Phase::Upgraded | Phase::Evicted | Phase::Gone => return None,
        };
        enabled(timeout).map(|t| (s.since + t, why))
    }

    /// Resolves when the proxy should close this connection: its phase's timeout passed, or it
    /// was evicted to make room.
    ///
    /// Phase changes do not wake it (that would cost every request a wake-up of its
    /// connection's task): it looks again at least every `min(header, idle timeout)`, and no
    /// phase's deadline comes sooner than that after the phase begins, so it never looks late.
    pub async fn closed(&self) -> CloseReason {
        let limits = &self.table.limits;
        let horizon = [limits.header_timeout, limits.idle_timeout].into_iter().filter_map(enabled).min();
        loop {
            let now = Instant::now();
            let deadline = self.deadline();
            if let Some((d, why)) = deadline {
                if now >= d {
                    return why;
                }
            }
            let next_look = horizon.map(|h| now + h);
            let wake = match (deadline.map(|(d, _)| d), next_look) {
                (Some(d), Some(n)) => Some(d.min(n)),
                (d, n) => d.or(n),
            };
            tokio::select! {
                _ = self.evict.cancelled() => return CloseReason::Evicted,
                _ = sleep_until(wake) => {}
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Keeps a connection `Active` while one of its requests is in flight.
pub struct RequestGuard(Option<Arc<Conn>>);

impl RequestGuard {
    /// A guard for a request that belongs to no tracked connection.
    pub fn none() -> Self {
        RequestGuard(None)
    }

    pub fn conn(&self) -> Option<&Arc<Conn>> {
        self.0.as_ref()
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            conn.request_ended();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits(max: usize) -> Limits {
        Limits {
            header_timeout: Duration::from_millis(200),
            idle_timeout: Duration::from_millis(400),
            body_timeout: Duration::from_secs(1),
            write_timeout: Duration::from_secs(1),
            max_connections: max,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_connection_has_the_header_timeout_then_idles_between_requests() {
        let table = Table::new(limits(0));
        let slot = table.admit(None);
        let conn = slot.conn().clone();
        let started = Instant::now();
        assert_eq!(conn.closed().await, CloseReason::HeaderTimeout);
        assert_eq!(started.elapsed(), Duration::from_millis(200));

        let slot = table.admit(None);
        let conn = slot.conn().clone();
        let guard = conn.begin_request();
        let closed = tokio::spawn({
            let conn = conn.clone();
            async move { conn.closed().await }
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!closed.is_finished(), "no timeout while a request is in flight");
        let ended = Instant::now();
        drop(guard);
        assert_eq!(closed.await.unwrap(), CloseReason::IdleTimeout);
        assert_eq!(ended.elapsed(), Duration::from_millis(400));
    }

    #[tokio::test(start_paused = true)]
    async fn the_next_request_gets_the_header_timeout_from_its_first_byte() {
        let table = Table::new(limits(0));
        let slot = table.admit(None);
        let conn = slot.conn().clone();
        drop(conn.begin_request());
        let closed = tokio::spawn({
            let conn = conn.clone();
            async move { conn.closed().await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let first_byte = Instant::now();
        conn.on_read();
        assert_eq!(closed.await.unwrap(), CloseReason::HeaderTimeout);
        assert_eq!(first_byte.elapsed(), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_cap_the_longest_waiting_connection_is_evicted_never_a_busy_one() {
        let table = Table::new(limits_with_long_header_timeout(3));
        let busy = table.admit(None);
        let _busy_request = busy.conn().begin_request();
        tokio::time::advance(Duration::from_millis(10)).await;
        let old = table.admit(None);
        tokio::time::advance(Duration::from_millis(10)).await;
        let young = table.admit(None);
        assert_eq!(table.open(), 3);
        tokio::time::advance(EVICTION_GRACE).await;
        tokio::time::timeout(Duration::from_millis(1), table.wait_for_room()).await.expect("evictable: room");

        let _new = table.admit(None);
        assert!(old.conn().evict.is_cancelled(), "the oldest waiting connection goes");
        assert!(!young.conn().evict.is_cancelled() && !busy.conn().evict.is_cancelled());
        assert_eq!(old.conn().closed().await, CloseReason::Evicted);
        drop(old);
        assert_eq!(table.open(), 3);

        // Everything busy: no room until one closes.
        let _r1 = young.conn().begin_request();
        let _r2 = _new.conn().begin_request();
        let waiting = tokio::spawn({
            let table = table.clone();
            async move { table.wait_for_room().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        drop(busy);
        tokio::time::timeout(Duration::from_millis(50), waiting).await.expect("room after a close").unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_whose_bytes_wait_unread_is_passed_over() {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        let table = Table::new(limits_with_long_header_timeout(2));
        let (mut client, server) = std::os::unix::net::UnixStream::pair().unwrap();
        client.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        let live = table.admit(Some(server.as_raw_fd()));
        tokio::time::advance(Duration::from_millis(10)).await;
        let (_quiet_client, quiet_server) = std::os::unix::net::UnixStream::pair().unwrap();
        let quiet = table.admit(Some(quiet_server.as_raw_fd()));
        tokio::time::advance(EVICTION_GRACE).await;
        let _new = table.admit(None);
        assert!(!live.conn().evict.is_cancelled(), "the older connection has a request waiting to be read");
        assert!(quiet.conn().evict.is_cancelled());
    }

    /// Limits whose header timeout outlasts the eviction grace.
    fn limits_with_long_header_timeout(max: usize) -> Limits {
        Limits { header_timeout: Duration::from_secs(10), ..limits(max) }
    }

    #[tokio::test(start_paused = true)]
    async fn a_just_accepted_connection_is_not_evicted_before_its_request_can_arrive() {
        let table = Table::new(limits_with_long_header_timeout(2));
        let first = table.admit(None);
        tokio::time::advance(Duration::from_millis(100)).await;
        let second = table.admit(None);
        let started = Instant::now();
        table.wait_for_room().await;
        assert_eq!(
            started.elapsed(),
            EVICTION_GRACE - Duration::from_millis(100),
            "room once the first is past its grace"
        );
        let _third = table.admit(None);
        assert!(first.conn().evict.is_cancelled());
        assert!(!second.conn().evict.is_cancelled(), "the second is still in its grace");

        // A keep-alive connection between requests has no grace.
        let _request = second.conn().begin_request();
        drop(_request);
        tokio::time::timeout(Duration::from_millis(1), table.wait_for_room())
            .await
            .expect("a waiting connection: room");
    }

    #[tokio::test(start_paused = true)]
    async fn upgraded_connections_have_no_timeout_and_stay() {
        let table = Table::new(limits(1));
        let slot = table.admit(None);
        let guard = slot.conn().begin_request();
        slot.conn().upgraded();
        drop(guard);
        let closed = tokio::time::timeout(Duration::from_secs(10), slot.conn().closed()).await;
        assert!(closed.is_err(), "no timeout for an upgraded connection");
        let waiting = tokio::time::timeout(Duration::from_millis(10), table.wait_for_room()).await;
        assert!(waiting.is_err(), "an upgraded connection is not evicted");
    }
}
