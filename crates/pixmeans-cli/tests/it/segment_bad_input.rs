//! `pixmeans segment` on bad input: one clear line naming the file, exit 2
//! (1 for a partly failed batch), and no folder or file left behind or
//! replaced.

use std::fs;
use std::path::Path;

use crate::save_picture;
use crate::segment::run_segment;

/// Runs `pixmeans segment ARGS...` in `dir`; expects exit `code` and one
/// `error:` line, and returns standard error.
fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    crate::fails_with(dir, &[&["segment"], args].concat(), code)
}

#[test]
fn bad_input_leaves_no_folder() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    let err = fails(dir.path(), &["nope.jpg", "-o", "out"], 2);
    assert!(err.contains("nope.jpg"), "{err}");
    for bad in ["-1", "101", "NaN", "inf"] {
        let err = fails(dir.path(), &["p.png", "--spatial", bad, "-o", "out"], 2);
        assert!(err.contains("--spatial"), "{err}");
    }
    // The picture is 96 x 64 = 6144 pixels.
    let err = fails(
        dir.path(),
        &["p.png", "--min-region", "6145", "-o", "out"],
        2,
    );
    assert!(err.contains("p.png") && err.contains("6144"), "{err}");
    let err = fails(dir.path(), &["p.png", "-k", "65536", "-o", "out"], 2);
    assert!(err.contains("65535"), "{err}");
    fails(
        dir.path(),
        &["p.png", "--connectivity", "6", "-o", "out"],
        2,
    );
    assert!(!dir.path().join("out").exists());
    let err = fails(dir.path(), &["p.png", "-o", "-"], 2);
    assert!(
        err.contains("standard output") && err.contains("-o"),
        "{err}"
    );
    assert!(!dir.path().join("-").exists());
}

#[test]
fn an_output_named_like_a_file_is_refused_unless_that_folder_exists() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    let err = fails(dir.path(), &["p.png", "-k", "3", "-o", "parts.png"], 2);
    assert!(err.contains("-o parts.png names a file"), "{err}");
    assert!(err.contains("hint: name a folder, e.g. -o parts/"), "{err}");
    assert!(!dir.path().join("parts.png").exists());

    // A trailing slash names a folder, whatever the name.
    run_segment(
        dir.path(),
        &["p.png", "-k", "3", "--only", "json", "-o", "new.png/"],
    );
    assert!(dir.path().join("new.png/segments.json").is_file());
    let err = crate::fails_with(dir.path(), &["demo", "-o", "demo.html"], 2);
    assert!(err.contains("-o demo.html names a file"), "{err}");

    fs::create_dir(dir.path().join("parts.png")).unwrap();
    run_segment(
        dir.path(),
        &["p.png", "-k", "3", "--only", "json", "-o", "parts.png"],
    );
    assert!(dir.path().join("parts.png/segments.json").is_file());
}

#[test]
fn existing_files_are_kept_without_force_and_replaced_with_it() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    run_segment(dir.path(), &["p.png", "-k", "3", "-o", "out"]);
    let before = fs::read(dir.path().join("out/segments.json")).unwrap();
    let err = fails(dir.path(), &["p.png", "-k", "4", "-o", "out"], 2);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        fs::read(dir.path().join("out/segments.json")).unwrap(),
        before
    );
    // With --force the folder describes the new run alone: no masks of the
    // old colours are left behind.
    let report = run_segment(dir.path(), &["p.png", "-k", "4", "-o", "out", "--force"]);
    let present = fs::read_dir(dir.path().join("out")).unwrap().count();
    assert_eq!(present, report["files"].as_array().unwrap().len());
}

#[test]
fn force_with_only_some_kinds_keeps_the_other_kinds() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    let first = run_segment(dir.path(), &["p.png", "-k", "4", "-o", "out"]);
    let names = |report: &serde_json::Value| -> Vec<String> {
        let files = report["files"].as_array().unwrap();
        files
            .iter()
            .map(|f| f.as_str().unwrap().to_owned())
            .collect()
    };
    let (old, kept) = (
        names(&first),
        fs::read(dir.path().join("out/labels.png")).unwrap(),
    );
    // Fewer masks: those of the 4-cluster run go, everything else stays.
    let second = run_segment(
        dir.path(),
        &[
            "p.png",
            "-k",
            "2",
            "-o",
            "out",
            "--force",
            "--only",
            "masks,json",
        ],
    );
    let new = names(&second);
    assert_eq!(new.iter().filter(|n| n.starts_with("mask-")).count(), 2);
    let mut expected: Vec<String> = old
        .into_iter()
        .filter(|n| !n.starts_with("mask-") && n != "segments.json")
        .chain(new)
        .collect();
    expected.sort();
    let mut present: Vec<String> = fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    present.sort();
    assert_eq!(present, expected);
    assert_eq!(fs::read(dir.path().join("out/labels.png")).unwrap(), kept);
    // Refreshing the JSON alone removes nothing.
    let before = fs::read_dir(dir.path().join("out")).unwrap().count();
    run_segment(
        dir.path(),
        &["p.png", "-k", "3", "-o", "out", "--force", "--only", "json"],
    );
    assert_eq!(
        fs::read_dir(dir.path().join("out")).unwrap().count(),
        before
    );
}

#[test]
fn a_batch_with_one_bad_input_exits_1_and_writes_the_good_one() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("good.png"));
    fs::write(dir.path().join("bad.png"), "not a picture").unwrap();
    let err = fails(
        dir.path(),
        &["good.png", "bad.png", "-k", "3", "-o", "parts"],
        1,
    );
    assert!(err.contains("bad.png"), "{err}");
    assert!(dir.path().join("parts/good/segments.json").is_file());
    assert!(!dir.path().join("parts/bad").exists());
}

#[test]
fn an_input_named_like_an_output_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("mean.png"));
    let before = fs::read(dir.path().join("mean.png")).unwrap();
    let err = fails(dir.path(), &["mean.png", "-o", ".", "--force"], 2);
    assert!(err.contains("is an input"), "{err}");
    assert_eq!(fs::read(dir.path().join("mean.png")).unwrap(), before);
}
