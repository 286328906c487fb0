//! How a batch names its outputs against its inputs: a rerun over the same
//! files or folder leaves out the earlier run's outputs, and two inputs that
//! would write one file are both named.

use std::fs;
use std::path::Path;

use crate::{pixmeans, save_picture};

/// Runs `pixmeans quantize ARGS...` in `dir`, expects success, and returns
/// standard error.
fn quantize(dir: &Path, args: &[&str]) -> String {
    let out = pixmeans()
        .current_dir(dir)
        .arg("quantize")
        .args(args)
        .assert()
        .success();
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn a_rerun_over_the_same_files_leaves_out_the_earlier_outputs_and_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("a.png"));
    save_picture(&dir.path().join("b.png"));
    quantize(dir.path(), &["a.png", "b.png", "-k", "4"]);
    // b-k4.png is the user's own file now, not what pixmeans wrote.
    fs::copy(dir.path().join("a.png"), dir.path().join("b-k4.png")).unwrap();
    let mine = fs::read(dir.path().join("b-k4.png")).unwrap();

    // What `pixmeans quantize ./*.png -k 4 -f` passes the second time: the
    // outputs are left out, not quantized again, and not replaced either.
    let err = crate::fails_with(
        dir.path(),
        &[
            "quantize",
            "./a-k4.png",
            "./a.png",
            "b-k4.png",
            "b.png",
            "-k",
            "4",
            "-f",
        ],
        2,
    );
    assert!(
        err.contains(
            "warning: leaving out ./a-k4.png, taken for an earlier run's output from ./a.png"
        ),
        "{err}"
    );
    assert!(err.contains("warning: leaving out b-k4.png"), "{err}");
    assert!(
        err.contains("error: a-k4.png is not replaced: it is among the inputs"),
        "{err}"
    );
    assert_eq!(
        names(dir.path()),
        ["a-k4.png", "a.png", "b-k4.png", "b.png"]
    );
    assert_eq!(fs::read(dir.path().join("b-k4.png")).unwrap(), mine);

    // Run again over the folder with a new photo: the new one is done, the
    // others fail one by one (their outputs are there), and nothing is
    // replaced, even under --force.
    save_picture(&dir.path().join("c.png"));
    let err = crate::fails_with(dir.path(), &["quantize", ".", "-k", "4"], 1);
    assert!(err.contains("error: a-k4.png is not replaced"), "{err}");
    assert!(dir.path().join("c-k4.png").is_file());
    fs::remove_file(dir.path().join("c-k4.png")).unwrap();
    let err = crate::fails_with(dir.path(), &["quantize", ".", "-k", "4", "-f"], 1);
    assert!(err.contains("error: b-k4.png is not replaced"), "{err}");
    assert!(dir.path().join("c-k4.png").is_file());
    assert_eq!(fs::read(dir.path().join("b-k4.png")).unwrap(), mine);
    // Under -k auto too: the outputs are found by name once k is chosen
    // (4 for these pictures).
    fs::remove_file(dir.path().join("c-k4.png")).unwrap();
    let err = crate::fails_with(dir.path(), &["quantize", ".", "-k", "auto", "-f"], 1);
    assert!(err.contains("error: a-k4.png is not replaced"), "{err}");
    assert!(dir.path().join("c-k4.png").is_file());
    fs::remove_file(dir.path().join("c-k4.png")).unwrap();
    fs::remove_file(dir.path().join("c.png")).unwrap();

    // At another k, and in another format, they are left out too: runs at
    // several k into one folder do not quantize each other's outputs.
    fs::copy(dir.path().join("a.png"), dir.path().join("a-k2.webp")).unwrap();
    let err = quantize(dir.path(), &[".", "-k", "3"]);
    for name in ["a-k4.png", "a-k2.webp", "b-k4.png"] {
        assert!(err.contains(&format!("leaving out ./{name}")), "{err}");
    }
    assert_eq!(
        names(dir.path()),
        [
            "a-k2.webp",
            "a-k3.png",
            "a-k4.png",
            "a.png",
            "b-k3.png",
            "b-k4.png",
            "b.png"
        ]
    );
    // Many are counted, not listed.
    save_picture(&dir.path().join("c.png"));
    let err = quantize(dir.path(), &[".", "-k", "5"]);
    assert!(
        err.contains("warning: leaving out 5 inputs taken for earlier runs' outputs, such as ./"),
        "{err}"
    );
    assert_eq!(err.matches("leaving out").count(), 1, "{err}");
    // Named alone, an earlier output is an input like any other.
    let err = quantize(dir.path(), &["a-k4.png", "-k", "3"]);
    assert!(!err.contains("leaving out"), "{err}");
    assert!(dir.path().join("a-k4-k3.png").is_file());
}

#[test]
fn a_folder_quantized_into_itself_again_leaves_out_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    fs::create_dir(&photos).unwrap();
    save_picture(&photos.join("a.png"));
    quantize(dir.path(), &["photos", "-k", "auto", "-o", "photos/"]);
    let made = names(&photos);
    assert_eq!(made.len(), 2, "{made:?}");

    // -k auto: any K; into another folder, so nothing needs --force.
    let err = quantize(dir.path(), &["photos", "-k", "auto", "-o", "out/"]);
    assert!(
        err.contains(&format!("warning: leaving out photos/{}", made[0])),
        "{err}"
    );
    assert_eq!(names(&dir.path().join("out")).len(), 1);
}

#[test]
fn skip_existing_reruns_a_folder_doing_only_its_new_images() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    fs::create_dir(&photos).unwrap();
    save_picture(&photos.join("a.png"));
    save_picture(&photos.join("b.png"));
    quantize(dir.path(), &["photos", "-k", "4", "-o", "photos/"]);
    // The user's own edit of one output, which a rerun must leave alone.
    fs::write(photos.join("b-k4.png"), b"kept").unwrap();
    save_picture(&photos.join("c.png"));
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "photos", "-k", "4", "-o", "photos/"])
        .args(["--skip-existing", "--json"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let lines = crate::json_lines(&out.get_output().stdout);
    let skipped = "the output is there already (--skip-existing)";
    assert_eq!(lines[0]["output"], "photos/a-k4.png");
    assert_eq!(lines[0]["skipped"], skipped);
    assert_eq!(lines[1]["skipped"], skipped);
    assert_eq!(lines[2]["output"], "photos/c-k4.png");
    assert_eq!(lines[2]["written"], true);
    assert!(
        err.contains(&format!(
            "photos/b.png -> photos/b-k4.png, not written: {skipped}"
        )),
        "{err}"
    );
    assert_eq!(fs::read(photos.join("b-k4.png")).unwrap(), b"kept");
    assert_eq!(
        names(&photos),
        [
            "a-k4.png", "a.png", "b-k4.png", "b.png", "c-k4.png", "c.png"
        ]
    );

    // Under -k auto the name waits for k (4 for these pictures): quantized,
    // then left unwritten.
    fs::remove_file(photos.join("c-k4.png")).unwrap();
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "photos", "-k", "auto", "-o", "photos/"])
        .args(["--skip-existing", "--json"])
        .assert()
        .success();
    let lines = crate::json_lines(&out.get_output().stdout);
    assert_eq!(lines[1]["output"], "photos/b-k4.png");
    assert_eq!(lines[1]["written"], false);
    assert_eq!(lines[1]["skipped"], skipped);
    assert_eq!(lines[2]["written"], true);
    assert_eq!(fs::read(photos.join("b-k4.png")).unwrap(), b"kept");
    assert!(photos.join("c-k4.png").is_file());

    // It is the opposite of --force.
    let err = crate::fails_with(
        dir.path(),
        &["quantize", "photos", "--skip-existing", "--force"],
        2,
    );
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn two_inputs_that_would_write_one_file_are_both_named() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("logo.png"));
    save_picture(&dir.path().join("logo.bmp"));
    let err = crate::fails_with(
        dir.path(),
        &["quantize", "logo.bmp", "logo.png", "-k", "4"],
        2,
    );
    assert!(
        err.contains("logo.bmp and logo.png would both be written to logo-k4.png"),
        "{err}"
    );
    assert_eq!(names(dir.path()), ["logo.bmp", "logo.png"]);
}

#[test]
fn every_clash_is_named_at_once_in_quantize_and_segment() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("in")).unwrap();
    for name in ["a.png", "a.bmp", "b.png", "b.gif", "c.png"] {
        save_picture(&dir.path().join("in").join(name));
    }
    let err = crate::fails_with(dir.path(), &["quantize", "in", "-k", "4", "-o", "out/"], 2);
    assert!(err.contains("2 clashes of output names"), "{err}");
    assert!(
        err.contains("in/a.bmp and in/a.png would both be written to out/a-k4.png"),
        "{err}"
    );
    assert!(
        err.contains("in/b.gif and in/b.png would both be written to out/b-k4.png"),
        "{err}"
    );
    let err = crate::fails_with(dir.path(), &["segment", "in", "-k", "2", "-o", "parts/"], 2);
    assert!(
        err.contains("in/a.bmp and in/a.png would both be written to parts/a"),
        "{err}"
    );
    assert!(
        err.contains("in/b.gif and in/b.png would both be written to parts/b"),
        "{err}"
    );
    assert_eq!(names(dir.path()), ["in"]);
}

#[test]
fn a_file_given_twice_is_done_once_and_a_folder_says_what_it_skipped() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("in/sub")).unwrap();
    save_picture(&dir.path().join("in/a.png"));
    save_picture(&dir.path().join("in/sub/b.png"));
    fs::write(dir.path().join("in/notes.txt"), "not an image").unwrap();
    // What a Mac leaves beside a photo copied from it: not an image.
    fs::write(dir.path().join("in/._a.png"), "Mac metadata").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("gone.png", dir.path().join("in/broken.png")).unwrap();
    let out = pixmeans()
        .current_dir(dir.path())
        .args([
            "quantize",
            "in/a.png",
            "in",
            "./in/a.png",
            "-k",
            "4",
            "-o",
            "out/",
            "--json",
        ])
        .assert()
        .success();
    assert_eq!(crate::json_lines(&out.get_output().stdout).len(), 1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let broken = if cfg!(unix) {
        " and 1 path named as images that are not files, such as broken links"
    } else {
        ""
    };
    let and = if cfg!(unix) { ", " } else { " and " };
    assert!(
        err.contains(&format!(
            "note: in: 1 image; skipped 1 folder (not entered), 1 hidden file{and}1 file not named as images{broken}\n"
        )),
        "{err}"
    );
    assert_eq!(names(&dir.path().join("out")), ["a-k4.png"]);

    // A folder of hidden files alone: the error says what it skipped.
    fs::create_dir(dir.path().join("mac")).unwrap();
    fs::write(dir.path().join("mac/._a.png"), "Mac metadata").unwrap();
    let err = crate::fails_with(dir.path(), &["quantize", "mac", "-k", "4"], 2);
    assert!(err.contains("; skipped 1 hidden file"), "{err}");
}
