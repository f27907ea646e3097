//! What one call's `Store` holds: WASI, the limiter, and the call's shared state (identity,
//! what its capabilities allow, limits, output accounting, log sink).
//!
//! The output accounting and masking (the `impl Call` for log lines) live with the `log`
//! capability ([`crate::capabilities::log`]); the host functions with their capabilities.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::capabilities::log::mask::Masker;
use crate::capabilities::log::{LogRecord, LogSink, Output};
use crate::capabilities::Effective;
use crate::grant::Limits;

/// The wall-clock deadline passed.
#[derive(Debug)]
pub(crate) struct DeadlineHit;

impl std::fmt::Display for DeadlineHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline exceeded")
    }
}

impl std::error::Error for DeadlineHit {}

/// State shared by the store, the WASI output streams and the host functions of one call.
pub(crate) struct Call {
    pub plugin: String,
    pub masker: Masker,
    pub sink: LogSink,
    pub caps: Effective,
    pub limits: Limits,
    pub deadline: Instant,
    pub(crate) output: Mutex<Output>,
    pub timed_out: AtomicBool,
    pub output_exceeded: AtomicBool,
    pub memory_exceeded: AtomicBool,
    /// Records held back until the call returns (secrets adapters: so that the values they
    /// return are masked in what they logged while fetching them).
    pub(crate) held: Option<Mutex<Vec<LogRecord>>>,
    /// The last record, not yet passed on (unmasked), and the byte ranges at its start that
    /// belong to a secret begun in the record before it.
    pub(crate) pending: Mutex<Option<(LogRecord, Vec<(usize, usize)>)>>,
    /// Where granted programs run instead of this machine (see `capabilities::process`).
    pub(crate) runner: Option<Arc<dyn crate::capabilities::process::ProcessRunner>>,
}

/// What a table element is counted as against the memory limit (a reference, with room).
const TABLE_ELEMENT_BYTES: usize = 16;

impl Call {
    /// `hold`: keep log records until [`Call::release`] instead of passing them on at once.
    pub fn new(plugin: String, masker: Masker, sink: LogSink, caps: Effective, limits: Limits, hold: bool) -> Call {
        Call {
            held: hold.then(|| Mutex::new(vec![])),
            plugin,
            masker,
            sink,
            caps,
            limits,
            // (a timeout too long to add is as good as none)
            deadline: Instant::now()
                .checked_add(limits.timeout)
                .unwrap_or_else(|| Instant::now() + std::time::Duration::from_secs(100 * 365 * 24 * 3600)),
            output: Mutex::new(Output::default()),
            pending: Mutex::new(None),
            timed_out: AtomicBool::new(false),
            output_exceeded: AtomicBool::new(false),
            memory_exceeded: AtomicBool::new(false),
            runner: None,
        }
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> std::time::Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

/// Memory limiter: [`StoreLimits`] for counts and tables, plus a limit on all linear memories
/// and tables of the store together that records when it refused to grow.
pub(crate) struct Limiter {
    inner: StoreLimits,
    limit: usize,
    total: usize,
    call: Arc<Call>,
}

impl Limiter {
    pub fn new(limit: u64, call: Arc<Call>) -> Limiter {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Limiter {
            inner: StoreLimitsBuilder::new().memory_size(limit).instances(64).tables(64).memories(64).build(),
            limit,
            total: 0,
            call,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let grow = desired.saturating_sub(current);
        let allowed =
            self.inner.memory_growing(current, desired, maximum)? && self.total.saturating_add(grow) <= self.limit;
        if allowed {
            self.total += grow;
        } else if maximum.is_none_or(|m| desired <= m) {
            // Refused by our limit, not by the memory's own declared maximum.
            self.call.memory_exceeded.store(true, Ordering::SeqCst);
        }
        Ok(allowed)
    }

    /// Tables count against the same limit as memories (with the on-demand allocator nothing
    /// else bounds them), at 16 bytes an element.
    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let grow = desired.saturating_sub(current).saturating_mul(TABLE_ELEMENT_BYTES);
        let allowed =
            self.inner.table_growing(current, desired, maximum)? && self.total.saturating_add(grow) <= self.limit;
        if allowed {
            self.total += grow;
        } else {
            // The maximum here may be the pooling allocator's slot size as well as the
            // table's own: either way, a refusal is the host's limit as far as the user goes.
            self.call.memory_exceeded.store(true, Ordering::SeqCst);
        }
        Ok(allowed)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// The data of a call's `Store`.
pub(crate) struct State {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limiter: Limiter,
    pub call: Arc<Call>,
    pub http: crate::capabilities::http::HttpState,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
