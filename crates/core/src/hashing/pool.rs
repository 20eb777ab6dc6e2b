//! A small pool of long-lived threads that do nothing but hash passwords.
//!
//! Why not `tokio::task::spawn_blocking`: its threads come and go, and glibc gives each new
//! thread one of up to 8 x cores malloc arenas, each of which then keeps a 19 MiB argon2
//! buffer cached. Under a login flood that added up to hundreds of MB of RSS. Here a fixed
//! set of threads each own one reusable argon2 buffer, so hashing memory is
//! `threads x m_cost`, allocated on first use and never more.
//!
//! The threads run at a lower scheduling priority (nice +5 on Linux), so a login flood
//! takes whatever CPU the request path leaves and never starves it.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use argon2::Block;

/// Per-thread scratch memory handed to every job.
pub(crate) type Scratch = Vec<Block>;

type Job = Box<dyn FnOnce(&mut Scratch) + Send + 'static>;

/// Hands jobs to the hashing threads. The threads exit once every clone is dropped.
#[derive(Clone)]
pub(crate) struct HashPool {
    jobs: mpsc::Sender<Job>,
}

/// How much lower than the request path hashing threads run (Linux `nice` units).
const HASH_THREAD_NICENESS: i32 = 5;

impl HashPool {
    /// Starts `threads` hashing threads.
    pub(crate) fn start(threads: usize) -> std::io::Result<HashPool> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            thread::Builder::new()
                .name(format!("authgate-hash-{i}"))
                .spawn(move || worker(&rx))?;
        }
        Ok(HashPool { jobs: tx })
    }

    /// Queues `job`; `false` if the threads are gone.
    pub(crate) fn submit(&self, job: impl FnOnce(&mut Scratch) + Send + 'static) -> bool {
        self.jobs.send(Box::new(job)).is_ok()
    }
}

fn worker(rx: &Mutex<mpsc::Receiver<Job>>) {
    lower_priority();
    let mut scratch = Scratch::new();
    loop {
        // The lock is held only while waiting for the next job, not while hashing.
        let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        match next {
            Ok(job) => job(&mut scratch),
            Err(_) => return,
        }
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // the workspace's one exception: libc has no safe setpriority
fn lower_priority() {
    // SAFETY: gettid and setpriority take no pointers; on Linux, PRIO_PROCESS with a thread
    // id changes that thread only. Failure leaves the default priority, which is harmless.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, HASH_THREAD_NICENESS);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_the_named_threads_and_keep_their_scratch() {
        let pool = HashPool::start(1).unwrap();
        let (tx, rx) = mpsc::channel();
        for _ in 0..3 {
            let tx = tx.clone();
            pool.submit(move |scratch| {
                scratch.push(Block::default());
                let name = thread::current().name().map(str::to_owned);
                tx.send((name, scratch.len())).unwrap();
            });
        }
        let seen: Vec<_> = (0..3).map(|_| rx.recv().unwrap()).collect();
        assert!(seen
            .iter()
            .all(|(name, _)| name.as_deref() == Some("authgate-hash-0")));
        assert_eq!(
            seen.iter().map(|(_, len)| *len).collect::<Vec<_>>(),
            [1, 2, 3]
        );
    }
}
