//! [`pixmeans_io::stop_writing`], in a test binary of its own: it keeps
//! every file from being written until the process ends, so no other test
//! may share the process.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Commits `path` in a thread that takes a while inside `commit_together`,
/// and meanwhile stops writing in this one (dropping the stop at once, which
/// a real handler never does). Returns whether the commit had ended when
/// the stop returned.
fn stage_in_thread_and_stop_while_committing(path: &Path) -> bool {
    let staged = pixmeans_io::stage(path, b"early", false).unwrap();
    let (inside, wait) = std::sync::mpsc::channel();
    let ended = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = ended.clone();
    let commit = std::thread::spawn(move || {
        pixmeans_io::commit_together(|| {
            inside.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(200));
            staged.commit().unwrap();
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        });
    });
    wait.recv().unwrap();
    drop(pixmeans_io::stop_writing());
    let late = ended.load(std::sync::atomic::Ordering::SeqCst);
    commit.join().unwrap();
    late
}

#[test]
fn stopping_removes_the_files_being_written_and_lets_none_be_committed() {
    let dir = tempfile::tempdir().unwrap();
    pixmeans_io::write_atomic(&dir.path().join("done.png"), b"whole", false).unwrap();
    let out = dir.path().join("out.png");
    let staged = pixmeans_io::stage(&out, b"half", false).unwrap();
    let names = entries(dir.path());
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].starts_with(".pixmeans-"), "{names:?}");

    // A commit under way is waited for: all of it is done, or none.
    let early = dir.path().join("early.png");
    let late = stage_in_thread_and_stop_while_committing(&early);
    assert!(early.is_file() && late);
    std::fs::remove_file(&early).unwrap();
    let stopped = pixmeans_io::stop_writing();
    assert_eq!(entries(dir.path()), ["done.png"]);
    // A commit, or a new file, waits for the process to end.
    let commit = std::thread::spawn(move || pixmeans_io::commit_together(|| staged.commit()));
    let other = dir.path().join("other.png");
    let write = std::thread::spawn(move || pixmeans_io::write_atomic(&other, b"new", false));
    std::thread::sleep(Duration::from_millis(200));
    assert!(!commit.is_finished() && !write.is_finished());
    assert_eq!(entries(dir.path()), ["done.png"]);
    // As the handler does, hold on until the process ends.
    std::mem::forget(stopped);
}
