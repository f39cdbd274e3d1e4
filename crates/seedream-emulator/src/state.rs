//! What one emulator shares between its tasks: configuration, counters, the image cache and link
//! table, fault and rate books, the shutdown signal, and the tracker that lets shutdown wait for
//! every task. The server (connections) and the service (requests) both read it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use seedream_types::time::UtcTime;
use tokio::sync::{Notify, watch};

use crate::fault::{FaultBook, FaultSpec};
use crate::store::{ImageCache, ImageRate, LinkTable, Recipe};
use crate::{EmulatorConfig, EmulatorStats};

/// Path prefix of image links.
pub(crate) const FILES: &str = "/files/";

/// Everything one emulator shares between its tasks.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: EmulatorConfig,
    pub(crate) addr: SocketAddr,
    /// `http://127.0.0.1:PORT` or `https://…`.
    pub(crate) origin: String,
    pub(crate) tracker: Tracker,
    pub(crate) cache: ImageCache,
    pub(crate) links: LinkTable,
    pub(crate) shutdown: watch::Sender<bool>,
    pub(crate) config_fault: Option<FaultSpec>,
    pub(crate) faults: FaultBook,
    pub(crate) rate: Option<ImageRate>,
    pub(crate) requests: AtomicU64,
    pub(crate) connections: AtomicU64,
    pub(crate) open: Arc<AtomicU64>,
    pub(crate) faults_injected: AtomicU64,
    pub(crate) images: AtomicU64,
    pub(crate) stale_closes: AtomicU64,
}

impl State {
    pub fn new(config: EmulatorConfig, addr: SocketAddr) -> io::Result<Self> {
        let config_fault = config
            .fault
            .as_deref()
            .map(FaultSpec::parse)
            .transpose()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("EmulatorConfig::fault: {e}")))?;
        if let Some((probability, _)) = config.random_faults
            && !(0.0..=1.0).contains(&probability)
        {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "random_faults probability must be in [0, 1]"));
        }
        let scheme = if config.tls { "https" } else { "http" };
        Ok(Self {
            origin: format!("{scheme}://{addr}"),
            addr,
            tracker: Tracker::default(),
            cache: ImageCache::new(config.image_cache_bytes),
            links: LinkTable::default(),
            shutdown: watch::Sender::new(false),
            faults: FaultBook::new(config.random_faults),
            rate: config.images_per_minute.map(ImageRate::new),
            config_fault,
            config,
            requests: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            open: Arc::new(AtomicU64::new(0)),
            faults_injected: AtomicU64::new(0),
            images: AtomicU64::new(0),
            stale_closes: AtomicU64::new(0),
        })
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn open_connection(&self) -> OpenConnection {
        self.connections.fetch_add(1, Ordering::Relaxed);
        self.open.fetch_add(1, Ordering::AcqRel);
        OpenConnection(self.open.clone())
    }

    pub fn count_images(&self, images: u64) {
        self.images.fetch_add(images, Ordering::Relaxed);
    }

    pub fn stats(&self) -> EmulatorStats {
        EmulatorStats {
            requests: self.requests.load(Ordering::Relaxed),
            connections: self.connections.load(Ordering::Relaxed),
            open_connections: self.open.load(Ordering::Acquire),
            faults_injected: self.faults_injected.load(Ordering::Relaxed),
            images_generated: self.images.load(Ordering::Relaxed),
            tasks: self.tracker.live(),
            stale_closes: self.stale_closes.load(Ordering::Relaxed),
        }
    }

    /// A signed-looking download link for `recipe`, valid for `url_ttl`.
    pub fn link_for(&self, recipe: Recipe) -> String {
        let ttl = self.config.url_ttl;
        let (token, signature) = self.links.add(recipe, ttl);
        format!(
            "{}{FILES}{token}.{}?X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Date={}&X-Tos-Expires={}\
             &X-Tos-Signature={signature}&X-Tos-SignedHeaders=host",
            self.origin,
            recipe.encoding.extension(),
            UtcTime::now().basic(),
            ttl.as_secs()
        )
    }
}

/// Counts live tasks so shutdown can wait for all of them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tracker {
    inner: Arc<TrackerInner>,
}

#[derive(Debug, Default)]
struct TrackerInner {
    live: AtomicU64,
    idle: Notify,
}

/// Held by each tracked task; the last one out wakes the waiter.
struct TaskGuard(Arc<TrackerInner>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Tracker {
    fn guard(&self) -> TaskGuard {
        self.inner.live.fetch_add(1, Ordering::AcqRel);
        TaskGuard(self.inner.clone())
    }

    /// Spawns a task that counts as live until it ends.
    pub fn spawn<F: Future<Output = ()> + Send + 'static>(&self, task: F) {
        let guard = self.guard();
        tokio::spawn(async move {
            let _guard = guard;
            task.await;
        });
    }

    /// Runs blocking work on the blocking pool, counted as a live task.
    pub async fn run_blocking<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let guard = self.guard();
        tokio::task::spawn_blocking(move || {
            let _guard = guard;
            work()
        })
        .await
        .ok()
    }

    pub fn live(&self) -> u64 {
        self.inner.live.load(Ordering::Acquire)
    }

    pub(crate) async fn wait_idle(&self) {
        loop {
            let idle = self.inner.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.live() == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// Counts an open connection until dropped.
pub(crate) struct OpenConnection(pub(crate) Arc<AtomicU64>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
