//! The three server processes of one scenario: the mock upstream, nginx and promptship.
//! Each is a guard that stops its process when dropped, so an error anywhere in the
//! harness leaves nothing running.

use std::{
    ffi::OsStr,
    fs::File,
    io::{BufRead, BufReader},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use crate::mock;

/// The bearer token of promptship's `/metrics` in the benchmark.
pub const METRICS_TOKEN: &str = "bench-metrics";

/// How long any server may take to start before the run is abandoned.
const START_LIMIT: Duration = Duration::from_secs(30);
/// How long a server may take to stop after its signal before it is killed.
const STOP_LIMIT: Duration = Duration::from_secs(15);

/// A command for `program`, run on one core only (`taskset -c`) when `core` is given:
/// its threads, and the threads and children it starts, stay there.
fn command_on(program: impl AsRef<OsStr>, core: Option<usize>) -> Command {
    match core {
        Some(core) => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(core.to_string()).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// A port that was free a moment ago (the listener is dropped right away).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Stdout and stderr of a server, both into one file.
fn log_to(path: &Path) -> anyhow::Result<(Stdio, Stdio)> {
    let file = File::options()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    Ok((file.try_clone()?.into(), file.into()))
}

/// Sends a signal by name (`TERM`, `QUIT`) to one process this harness started.
fn signal(child: &Child, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Waits for the process to exit; kills it if it takes longer than `limit`.
fn wait_or_kill(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// Fails if the process has already exited, pointing at its log.
fn check_running(child: &mut Child, what: &str, log: &Path) -> anyhow::Result<()> {
    if let Some(status) = child.try_wait()? {
        bail!(
            "{what} exited during start-up ({status}); its log: {}",
            log.display()
        );
    }
    Ok(())
}

/// Memory of a process from `/proc/<pid>/status`, in KiB.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    pub rss_kib: u64,
    pub peak_kib: u64,
    /// Of `rss_kib`, the heap and stacks, and the binary's and other files' pages.
    pub anon_kib: u64,
    pub file_kib: u64,
    pub threads: u64,
}

pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        peak_kib: field("VmHWM:")?,
        anon_kib: field("RssAnon:")?,
        file_kib: field("RssFile:")?,
        threads: field("Threads:")?,
    })
}

/// The mock upstream (this executable, re-executed).
pub struct MockServer {
    child: Child,
    /// Held open: the mock exits when it closes, even if the harness is killed.
    _stdin: Option<ChildStdin>,
    pub port: u16,
}

impl MockServer {
    /// A mock answering in `shape`, on `core` alone when one is given.
    pub fn start(shape: mock::Shape, dir: &Path, core: Option<usize>) -> anyhow::Result<Self> {
        let log = dir.join(format!("mock-{}.log", shape.name()));
        let (_, stderr) = log_to(&log)?;
        let mut child = command_on(std::env::current_exe()?, core)
            .env(mock::ROLE_VAR, mock::ROLE_MOCK)
            .envs(shape.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .context("cannot start the mock upstream")?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("mock has no stdout")?;
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = send.send(line);
        });
        let mut mock = MockServer {
            child,
            _stdin: stdin,
            port: 0,
        };
        let line = receive.recv_timeout(START_LIMIT).unwrap_or_default();
        mock.port = match line.trim().parse() {
            Ok(port) => port,
            Err(_) => {
                check_running(&mut mock.child, "the mock upstream", &log)?;
                bail!(
                    "the mock upstream printed no port; its log: {}",
                    log.display()
                );
            }
        };
        Ok(mock)
    }
}

impl MockServer {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx as a bare reverse-proxy hop to the mock.
pub struct Nginx {
    child: Child,
    pub port: u16,
}

impl Nginx {
    /// nginx in front of the mock: two workers, or one alone on `core`.
    pub fn start(upstream_port: u16, dir: &Path, core: Option<usize>) -> anyhow::Result<Self> {
        let binary = nginx_binary()?;
        let prefix = dir.join("nginx");
        std::fs::create_dir_all(&prefix)?;
        let port = free_port()?;
        let config = prefix.join("nginx.conf");
        let workers = if core.is_some() { 1 } else { 2 };
        std::fs::write(&config, nginx_config(&prefix, port, upstream_port, workers))?;
        let log = prefix.join("error.log");
        let (stdout, stderr) = log_to(&log)?;
        let child = command_on(binary, core)
            .arg("-p")
            .arg(&prefix)
            .arg("-e")
            .arg(&log)
            .arg("-c")
            .arg(&config)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .context("cannot start nginx")?;
        let mut nginx = Nginx { child, port };
        let deadline = Instant::now() + START_LIMIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            check_running(&mut nginx.child, "nginx", &log)?;
            if Instant::now() > deadline {
                bail!(
                    "nginx did not listen within {START_LIMIT:?}; its log: {}",
                    log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(nginx)
    }
}

impl Nginx {
    /// The master's; its workers are its children.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // QUIT: finish open requests, then exit (workers included).
        signal(&self.child, "QUIT");
        wait_or_kill(&mut self.child, STOP_LIMIT);
    }
}

fn nginx_binary() -> anyhow::Result<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    std::iter::once(PathBuf::from("/usr/sbin"))
        .chain(candidates)
        .map(|dir| dir.join("nginx"))
        .find(|path| path.is_file())
        .context("nginx is not installed: install it with `apt-get install nginx`")
}

/// Workers started as root would drop to `nobody` and could not write the temp dir.
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

fn nginx_config(prefix: &Path, port: u16, upstream_port: u16, workers: usize) -> String {
    let dir = prefix.display();
    let user = if running_as_root() { "user root;" } else { "" };
    // keepalive_requests is raised so nginx does not close a keep-alive connection every
    // 1,000 requests: the direct and promptship paths never do.
    format!(
        r#"{user}
worker_processes {workers};
worker_rlimit_nofile 20000;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    upstream mock {{
        server 127.0.0.1:{upstream_port};
        keepalive 1024;
        keepalive_requests 1000000;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }}
    }}
}}
"#
    )
}

/// promptship's release binary, talking to the mock.
pub struct Promptship {
    child: Option<Child>,
    pub base: String,
    pub log: PathBuf,
    command: Command,
}

impl Promptship {
    /// A server for `dir/bench.db` (created on first start), on `core` alone when one is
    /// given (its runtime sizes itself to the cores it may use); not started yet.
    pub fn new(dir: &Path, mock_port: u16, core: Option<usize>) -> anyhow::Result<Self> {
        let port = free_port()?;
        let mut command = command_on(crate::server_binary(), core);
        // In the temp dir: no `.env` or `promptship.toml` of the checkout is read.
        command
            .current_dir(dir)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.join("bench.db").display()),
            )
            .env(
                "OPENAI_BASE_URL",
                format!("http://127.0.0.1:{mock_port}/v1"),
            )
            .env("OPENAI_API_KEY", "sk-bench")
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("MESSAGE_RATE_PER_MINUTE", "100000000")
            .env("AUTH_RATE_PER_MINUTE", "100000")
            .env("WRITE_RATE_PER_MINUTE", "100000000")
            .env("METRICS_TOKEN", METRICS_TOKEN)
            .env("GUESTS_PER_HOUR", "100000")
            .env("GUEST_MAX_CONVERSATIONS", "1000000")
            .env("GUEST_DAILY_MESSAGES", "1000000000")
            .env("GUEST_DAILY_TOKENS", "1000000000000")
            // The shipped apps (the temp dir has none), for the app pages and runs.
            .env(
                "APPS_DIR",
                Path::new(env!("CARGO_MANIFEST_DIR")).join("apps"),
            )
            .env("SIGNUPS_PER_HOUR", "100000")
            .env("USER_DAILY_TOKENS", "1000000000000")
            .env("GLOBAL_DAILY_TOKENS", "1000000000000")
            .env("GLOBAL_DAILY_USD", "100000000")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        if let Ok(filter) = std::env::var("BENCH_RUST_LOG") {
            command.env("RUST_LOG", filter);
        }
        Ok(Promptship {
            child: None,
            base: format!("http://127.0.0.1:{port}"),
            log: dir.join("promptship.log"),
            command,
        })
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn memory(&self) -> Option<Memory> {
        memory(self.pid()?)
    }

    /// Starts the server and returns the time from spawn to the first 200 of `/readyz`,
    /// polled every millisecond.
    pub async fn start(&mut self) -> anyhow::Result<Duration> {
        let probe = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()?;
        let ready_url = format!("{}/readyz", self.base);
        let (stdout, stderr) = log_to(&self.log)?;
        let started = Instant::now();
        let child = self
            .command
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .context("cannot start promptship")?;
        self.child = Some(child);
        loop {
            let ready = probe
                .get(&ready_url)
                .send()
                .await
                .is_ok_and(|r| r.status() == reqwest::StatusCode::OK);
            if ready {
                return Ok(started.elapsed());
            }
            if let Some(child) = self.child.as_mut() {
                check_running(child, "promptship", &self.log)?;
            }
            if started.elapsed() > START_LIMIT {
                bail!(
                    "promptship was not ready within {START_LIMIT:?}; its log: {}",
                    self.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// SIGTERM, as an orchestrator stops it, then waits for the graceful exit.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        signal(&child, "TERM");
        if !wait_or_kill(&mut child, STOP_LIMIT) {
            bail!(
                "promptship did not stop within {STOP_LIMIT:?} of SIGTERM; its log: {}",
                self.log.display()
            );
        }
        Ok(())
    }
}

impl Drop for Promptship {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
