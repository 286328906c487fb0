//! Ctrl-C (SIGINT) at any moment of a run leaves whole files only: no
//! temporary file, and a segment folder with all of one run's files or none.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// A 1200 x 900 picture with smooth gradients: big enough that writing its
/// files takes a while.
fn save_big(path: &Path) {
    image::RgbImage::from_fn(1200, 900, |x, y| {
        image::Rgb([
            (x * 255 / 1199) as u8,
            (y * 255 / 899) as u8,
            ((x + y) % 256) as u8,
        ])
    })
    .save(path)
    .unwrap();
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Runs pixmeans in `dir`, sends SIGINT after `delay`, and returns how it
/// ended: with 0 if it finished first, else by the signal.
fn interrupted(dir: &Path, args: &[&str], delay: Duration) -> ExitStatus {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("pixmeans"))
        .current_dir(dir)
        .args(args)
        .arg("-q")
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    // `kill` is part of every Unix; a child that has ended ignores it.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    child.wait().unwrap()
}

/// Times a whole run, then stops it at fractions of that time; `before`
/// runs before each run, `check` after it.
fn stop_at_fractions(dir: &Path, args: &[&str], before: impl Fn(), check: impl Fn(ExitStatus)) {
    before();
    let start = Instant::now();
    let status = Command::new(assert_cmd::cargo::cargo_bin("pixmeans"))
        .current_dir(dir)
        .args(args)
        .arg("-q")
        .status()
        .unwrap();
    assert!(status.success());
    let whole = start.elapsed();
    check(status);
    // The files are written in the last part of a run: stop there most.
    for percent in (10..80).step_by(20).chain((80..100).step_by(4)) {
        before();
        let status = interrupted(dir, args, whole * percent / 100);
        // Ended as SIGINT ends any program, so that a shell loop stops too.
        assert!(status.success() || status.signal() == Some(2), "{status:?}");
        check(status);
    }
}

#[test]
fn a_stopped_segment_leaves_all_of_its_files_or_none() {
    let dir = tempfile::tempdir().unwrap();
    save_big(&dir.path().join("big.png"));
    let args = ["segment", "big.png", "-k", "5", "-o", "seg"];
    let seg = dir.path().join("seg");
    let whole = std::cell::RefCell::new(Vec::new());
    let fresh = || drop(std::fs::remove_dir_all(&seg));
    stop_at_fractions(dir.path(), &args, fresh, |code| {
        let files = names(&seg);
        if whole.borrow().is_empty() {
            // The whole run's: labels, overlay, means, JSON, masks, cutouts.
            assert!(files.len() > 10, "{files:?}");
            whole.replace(files.clone());
        }
        assert!(
            files.is_empty() || files == *whole.borrow(),
            "exit {code:?}: {files:?}"
        );
        let others: Vec<String> = names(dir.path())
            .into_iter()
            .filter(|n| n != "seg")
            .collect();
        assert_eq!(others, ["big.png"]);
    });
}

#[test]
fn a_stopped_batch_leaves_no_temporary_file_and_only_whole_images() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.png", "b.png", "c.png"] {
        save_big(&dir.path().join(name));
    }
    let args = [
        "quantize", "a.png", "b.png", "c.png", "-k", "8", "-o", "out/",
    ];
    let out = dir.path().join("out");
    let fresh = || drop(std::fs::remove_dir_all(&out));
    stop_at_fractions(dir.path(), &args, fresh, |code| {
        for name in names(&out) {
            assert!(name.ends_with("-k8.png"), "{name}, exit {code:?}");
            let img = image::open(out.join(&name)).unwrap();
            assert_eq!((img.width(), img.height()), (1200, 900));
        }
    });
}

#[test]
fn a_stopped_demo_leaves_a_page_that_says_so_or_shows_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["demo", "-o", "d"];
    let folder = dir.path().join("d");
    let fresh = || drop(std::fs::remove_dir_all(&folder));
    stop_at_fractions(dir.path(), &args, fresh, |code| {
        let Ok(page) = std::fs::read_to_string(folder.join("index.html")) else {
            return;
        };
        if page.contains("stopped before the end") {
            return;
        }
        // The finished page is written last, but a signal can still come
        // between it and the end of the process: whatever the exit, every
        // file it links to is there.
        for link in page.split("<a href=\"").skip(1) {
            let file = link.split('"').next().unwrap();
            assert!(folder.join(file).is_file(), "{file}, exit {code:?}");
        }
    });
}

#[test]
fn a_signal_ignored_at_start_stays_ignored() {
    let dir = tempfile::tempdir().unwrap();
    save_big(&dir.path().join("big.png"));
    // What `nohup` does for SIGHUP and a script's `cmd &` for SIGINT.
    let mut child = Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg("trap '' INT; exec \"$0\" segment big.png -k 5 -o seg -q")
        .arg(assert_cmd::cargo::cargo_bin("pixmeans"))
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());
    assert!(dir.path().join("seg/segments.json").is_file());
}

#[test]
fn a_file_past_the_size_limit_fails_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    save_big(&dir.path().join("big.png"));
    let bin = assert_cmd::cargo::cargo_bin("pixmeans");
    // `ulimit -f 4`: files of at most 4 KiB; the output is far larger.
    let out = Command::new("sh")
        .current_dir(dir.path())
        .arg("-c")
        .arg(format!(
            "ulimit -f 4 && exec '{}' quantize big.png -k 16 -o out/",
            bin.display()
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write out/big-k16.png: File too large"),
        "{stderr}"
    );
    assert!(names(&dir.path().join("out")).is_empty());
}
