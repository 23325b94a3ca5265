//! The site's apps as the server sees them now: loaded at start, and in debug builds
//! loaded again when a file of the folder changes. A bad edit keeps the last good apps
//! serving and is reported (log and pages) until it is fixed.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::{Duration, SystemTime},
};

use tokio_util::sync::CancellationToken;

use super::{Apps, AppsError};
use crate::config::Site;

/// How often a debug build looks at the apps folder.
pub const WATCH_EVERY: Duration = Duration::from_millis(500);

/// The apps being served, swapped whole when the folder is read again.
pub struct Catalog {
    apps: RwLock<Arc<Apps>>,
    /// Why the folder's current files are not being served (a bad edit), if they are not.
    problem: RwLock<Option<Arc<AppsError>>>,
}

impl Catalog {
    pub fn new(apps: Apps) -> Self {
        Self {
            apps: RwLock::new(Arc::new(apps)),
            problem: RwLock::default(),
        }
    }

    /// The apps to serve this request with. A run holds its `Arc`, so a reload in the
    /// middle of it changes nothing for it.
    pub fn current(&self) -> Arc<Apps> {
        self.apps.read().expect("catalog poisoned").clone()
    }

    /// What is wrong with the folder's files since the last reload, while the last good
    /// apps keep serving.
    pub fn problem(&self) -> Option<Arc<AppsError>> {
        self.problem.read().expect("catalog poisoned").clone()
    }

    /// Reads the folder again: on success its apps replace the served ones; on failure
    /// they stay and the problem is kept for the pages to show.
    pub fn reload(&self, dir: &Path, site: &Site) -> Result<(), Arc<AppsError>> {
        match Apps::load(dir, site) {
            Ok(apps) => {
                *self.apps.write().expect("catalog poisoned") = Arc::new(apps);
                *self.problem.write().expect("catalog poisoned") = None;
                Ok(())
            }
            Err(error) => {
                let error = Arc::new(error);
                *self.problem.write().expect("catalog poisoned") = Some(error.clone());
                Err(error)
            }
        }
    }

    /// Reloads `dir` whenever a `.prompt` file in it is added, removed or changed, until
    /// `stop`. For debug builds: a release reads its apps once, at start.
    pub async fn watch(self: Arc<Self>, dir: PathBuf, site: Arc<Site>, stop: CancellationToken) {
        let mut seen = fingerprint(&dir);
        let mut ticks = tokio::time::interval(WATCH_EVERY);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let now = fingerprint(&dir);
            if now == seen {
                continue;
            }
            seen = now;
            match self.reload(&dir, &site) {
                Ok(()) => tracing::info!(
                    apps = self.current().len(),
                    "prompt apps reloaded after a change in {}",
                    dir.display()
                ),
                Err(error) => {
                    tracing::error!("{error}\n  (the last good version of the apps keeps serving)")
                }
            }
        }
    }
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Catalog").field(&self.current()).finish()
    }
}

/// Each `.prompt` file's path, length and modification time: a change of any is an edit.
fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "prompt"))
        .filter_map(|entry| {
            let meta = entry.metadata().ok()?;
            Some((entry.path(), meta.len(), meta.modified().ok()))
        })
        .collect();
    files.sort();
    files
}
