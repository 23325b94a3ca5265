//! Log lines written out in batches by a thread of their own.
//!
//! A request appends its line to a buffer in memory and goes on; a thread writes the
//! buffer to stdout every few milliseconds. Waking a writer thread for every line (a
//! channel per line, as tracing-appender does) cost more than formatting the line.

use std::{
    io::Write,
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError},
    thread::JoinHandle,
    time::Duration,
};

use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait in memory before it is written. The thread sleeps while
/// nothing is waiting, so an idle server is not woken 50 times a second.
const INTERVAL: Duration = Duration::from_millis(20);

/// Above this many waiting bytes, the writer is woken at once; at four times it, a
/// request waits until there is room: lines are never dropped, and memory stays bounded.
const WAKE_AT: usize = 64 * 1024;
const LIMIT: usize = 4 * WAKE_AT;

struct Shared {
    waiting: Mutex<Waiting>,
    /// Wakes the writer: the first line after it fell asleep, `WAKE_AT` bytes waiting,
    /// or closing.
    wake: Condvar,
    /// Wakes requests waiting for room.
    drained: Condvar,
}

#[derive(Default)]
struct Waiting {
    bytes: Vec<u8>,
    closed: bool,
    /// The writer found nothing to write and waits for the next line's wake-up.
    asleep: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        // A panic while holding the lock leaves at worst a partial line.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The `MakeWriter` for tracing's fmt layer, which writes each line with one call: lines
/// from several threads never interleave.
#[derive(Clone)]
pub struct BatchWriter(Arc<Shared>);

/// Writes out what is still waiting, and stops the thread, when dropped.
pub struct Guard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the writing thread over `out`.
pub fn spawn(out: impl Write + Send + 'static) -> std::io::Result<(BatchWriter, Guard)> {
    let shared = Arc::new(Shared {
        waiting: Mutex::new(Waiting::default()),
        wake: Condvar::new(),
        drained: Condvar::new(),
    });
    let worker = shared.clone();
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || write_out(&worker, out))?;
    Ok((
        BatchWriter(shared.clone()),
        Guard {
            shared,
            thread: Some(thread),
        },
    ))
}

fn write_out(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::new();
    loop {
        let closed = {
            let mut waiting = shared.lock();
            if waiting.bytes.is_empty() && !waiting.closed {
                waiting.asleep = true;
                while waiting.asleep && !waiting.closed {
                    waiting = shared
                        .wake
                        .wait(waiting)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                waiting.asleep = false;
            }
            // Lines that follow within the interval join the batch.
            if waiting.bytes.len() < WAKE_AT && !waiting.closed {
                waiting = shared
                    .wake
                    .wait_timeout(waiting, INTERVAL)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            std::mem::swap(&mut batch, &mut waiting.bytes);
            waiting.closed
        };
        shared.drained.notify_all();
        if !batch.is_empty() {
            // Nowhere to report a failed log write; the next batch tries again.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
            // Keep a burst's buffer from staying allocated.
            batch.shrink_to(WAKE_AT);
        }
        if closed && shared.lock().bytes.is_empty() {
            return;
        }
    }
}

impl Write for BatchWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut waiting = self.0.lock();
        while waiting.bytes.len() >= LIMIT && !waiting.closed {
            self.0.wake.notify_one();
            waiting = self
                .0
                .drained
                .wait(waiting)
                .unwrap_or_else(PoisonError::into_inner);
        }
        waiting.bytes.extend_from_slice(line);
        if waiting.asleep || waiting.bytes.len() >= WAKE_AT {
            waiting.asleep = false;
            self.0.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchWriter {
    type Writer = BatchWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Write` whose bytes the test can read.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_in_order_by_the_time_the_guard_is_dropped() {
        let sink = Sink::default();
        let (writer, guard) = spawn(sink.clone()).unwrap();
        // Many threads, and more bytes than the limit, so writers wait for room.
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        // One write per line, as tracing's fmt layer makes.
                        let line = format!("thread {t} line {i:05} {}\n", "x".repeat(40));
                        writer.write_all(line.as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let written = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(written.lines().count(), 20_000);
        for t in 0..4 {
            let mine: Vec<&str> = written
                .lines()
                .filter(|line| line.starts_with(&format!("thread {t} ")))
                .collect();
            assert_eq!(mine.len(), 5_000);
            assert!(
                mine.windows(2).all(|pair| pair[0] < pair[1]),
                "thread {t} out of order"
            );
        }
    }

    #[test]
    fn each_line_is_written_soon_even_after_the_writer_fell_asleep() {
        let sink = Sink::default();
        let (mut writer, _guard) = spawn(sink.clone()).unwrap();
        // The second line comes after the thread has gone back to sleep.
        for (line, expected) in [
            (&b"one line\n"[..], &b"one line\n"[..]),
            (b"another\n", b"one line\nanother\n"),
        ] {
            writer.write_all(line).unwrap();
            for _ in 0..200 {
                if sink.0.lock().unwrap().len() == expected.len() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(sink.0.lock().unwrap().as_slice(), expected);
            std::thread::sleep(2 * INTERVAL);
        }
    }
}
