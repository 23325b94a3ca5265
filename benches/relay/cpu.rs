//! Where the CPU went during a measured window: the load generator (this process), the
//! mock, nginx (master and workers), promptship, and everything else on the machine.
//! On two cores the servers and the load generator compete, so a figure is only worth
//! what this breakdown says about it.

use std::time::{Duration, Instant};

/// Cores kept busy on average, by whom.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuUse {
    pub load: f64,
    pub mock: f64,
    pub nginx: f64,
    pub promptship: f64,
    /// The machine's busy time not accounted for by the four above.
    pub other: f64,
}

/// The processes to account for.
#[derive(Clone, Copy, Debug)]
pub struct Pids {
    pub mock: u32,
    /// None when the run needs no nginx (BENCH_ONLY=review).
    pub nginx: Option<u32>,
    pub promptship: Option<u32>,
}

/// CPU time in clock ticks, machine-wide and per process group.
struct Snapshot {
    at: Instant,
    machine: u64,
    load: u64,
    mock: u64,
    nginx: u64,
    promptship: u64,
}

impl Snapshot {
    fn take(pids: Pids) -> Self {
        let nginx = pids
            .nginx
            .into_iter()
            .flat_map(|pid| std::iter::once(pid).chain(children(pid)))
            .map(process_ticks)
            .sum();
        Snapshot {
            at: Instant::now(),
            machine: machine_busy_ticks(),
            load: process_ticks(std::process::id()),
            mock: process_ticks(pids.mock),
            nginx,
            promptship: pids.promptship.map_or(0, process_ticks),
        }
    }
}

/// Measures from `after` for `during`, in a task, so the load runs undisturbed.
pub fn watch(pids: Pids, after: Duration, during: Duration) -> tokio::task::JoinHandle<CpuUse> {
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        let start = Snapshot::take(pids);
        tokio::time::sleep(during).await;
        let end = Snapshot::take(pids);
        usage(&start, &end)
    })
}

fn usage(start: &Snapshot, end: &Snapshot) -> CpuUse {
    let ticks_per_second = clock_ticks() * end.at.duration_since(start.at).as_secs_f64();
    let cores = |a: u64, b: u64| b.saturating_sub(a) as f64 / ticks_per_second.max(1.0);
    let load = cores(start.load, end.load);
    let mock = cores(start.mock, end.mock);
    let nginx = cores(start.nginx, end.nginx);
    let promptship = cores(start.promptship, end.promptship);
    let machine = cores(start.machine, end.machine);
    CpuUse {
        load,
        mock,
        nginx,
        promptship,
        other: (machine - load - mock - nginx - promptship).max(0.0),
    }
}

/// User and system time of one process, all its threads, in clock ticks.
fn process_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name is in parentheses and may hold spaces: count fields after it.
    let Some((_, fields)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = fields.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime: fields 14 and 15 of proc(5), 11 and 12 after the name.
    field(11) + field(12)
}

/// Busy time of all CPUs together (everything but idle and iowait), in clock ticks.
fn machine_busy_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|line| line.starts_with("cpu ")) else {
        return 0;
    };
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| ticks.get(i))
        .sum()
}

fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|child| child.parse().ok())
        .collect()
}

/// Clock ticks per second (`getconf CLK_TCK`), nearly always 100.
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}
