//! `measure`: runs one command and reports its wall time and peak memory.
//!
//! ```text
//! measure REPORT.json TIMEOUT_SECONDS -- CMD [ARGS...]
//! ```
//!
//! The command inherits standard input, output and error. When it ends (or
//! is killed after TIMEOUT_SECONDS), one JSON object is written to REPORT.json:
//! `{"wall_seconds", "max_rss_kb", "exit_code", "signal", "timed_out"}`.
//!
//! Why not measure from Python: on Linux a child's `ru_maxrss` includes the
//! high-water RSS of the process it was forked from, recorded when it calls
//! exec (and with vfork/posix_spawn, which Python's subprocess uses, that is
//! the parent's own memory). A Python driver holding images and NumPy would
//! put its own ~100+ MB under every tool. This launcher is a small Rust
//! process (a few MB), so the figure it reports is the tool's own peak.

use std::ffi::OsString;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let usage = "usage: measure REPORT.json TIMEOUT_SECONDS -- CMD [ARGS...]";
    if args.len() < 4 || args[2] != "--" {
        eprintln!("{usage}");
        return ExitCode::from(2);
    }
    let report = std::path::PathBuf::from(&args[0]);
    let Some(timeout) = args[1].to_str().and_then(|s| s.parse::<f64>().ok()) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };

    let start = Instant::now();
    let child = match Command::new(&args[3]).args(&args[4..]).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("measure: cannot start {}: {e}", args[3].to_string_lossy());
            return ExitCode::from(127);
        }
    };
    let pid = child.id() as libc::pid_t;

    // Watchdog: kill the child if it outlives the timeout. `done` is set
    // before the child is reaped, so its pid cannot have been reused yet.
    let done = Arc::new(AtomicBool::new(false));
    let timed_out = Arc::new(AtomicBool::new(false));
    {
        let (done, timed_out) = (Arc::clone(&done), Arc::clone(&timed_out));
        std::thread::spawn(move || {
            let deadline = start + Duration::from_secs_f64(timeout);
            while !done.load(Ordering::SeqCst) {
                let now = Instant::now();
                if now >= deadline {
                    timed_out.store(true, Ordering::SeqCst);
                    // SAFETY: kill(2) on the pid of our own child, not yet reaped.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                    return;
                }
                std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
            }
        });
    }

    let mut status: libc::c_int = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // Wait without reaping first, so the watchdog never kills a reused pid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break;
        }
    }
    let wall = start.elapsed().as_secs_f64();
    done.store(true, Ordering::SeqCst);
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r != pid {
        eprintln!("measure: wait4 failed: {}", std::io::Error::last_os_error());
        return ExitCode::from(125);
    }
    std::mem::forget(child); // already reaped

    let (exit_code, signal) = if libc::WIFEXITED(status) {
        (libc::WEXITSTATUS(status), 0)
    } else if libc::WIFSIGNALED(status) {
        (-1, libc::WTERMSIG(status))
    } else {
        (-1, 0)
    };
    let json = format!(
        "{{\"wall_seconds\":{wall},\"max_rss_kb\":{},\"exit_code\":{exit_code},\"signal\":{signal},\"timed_out\":{}}}\n",
        usage.ru_maxrss,
        timed_out.load(Ordering::SeqCst)
    );
    if let Err(e) = std::fs::write(&report, json) {
        eprintln!("measure: cannot write {}: {e}", report.display());
        return ExitCode::from(125);
    }
    ExitCode::SUCCESS
}
