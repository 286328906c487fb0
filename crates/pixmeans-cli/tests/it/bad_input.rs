//! Every kind of bad input: one clear line naming the file, exit code 2 (1
//! for a partly failed batch), and no partial or clobbered output.

use std::fs;
use std::path::Path;

use crate::{pixmeans, save_picture};

/// Runs `pixmeans quantize ARGS...` in `dir`; expects exit `code` and returns
/// standard error.
fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    crate::fails_with(dir, &[&["quantize"], args].concat(), code)
}

fn no_outputs(dir: &Path, keep: &[&str]) {
    for entry in fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(keep.contains(&name.as_str()), "unexpected file {name}");
    }
}

#[test]
fn a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(dir.path(), &["nope.jpg", "-o", "out.png"], 2);
    assert!(err.contains("nope.jpg"), "{err}");
    no_outputs(dir.path(), &[]);
}

#[test]
fn a_file_that_is_not_an_image() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.png"), "hello, this is text").unwrap();
    let err = fails(dir.path(), &["notes.png", "-o", "out.png"], 2);
    assert!(err.contains("notes.png"), "{err}");
    no_outputs(dir.path(), &["notes.png"]);
}

#[test]
fn a_truncated_png_and_a_truncated_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("full.png"));
    save_picture(&dir.path().join("full.jpg"));
    for (full, cut) in [("full.png", "cut.png"), ("full.jpg", "cut.jpg")] {
        let bytes = fs::read(dir.path().join(full)).unwrap();
        fs::write(dir.path().join(cut), &bytes[..bytes.len() / 2]).unwrap();
        let err = fails(dir.path(), &[cut, "-o", "out.png"], 2);
        assert!(err.contains(cut), "{err}");
    }
    no_outputs(dir.path(), &["full.png", "full.jpg", "cut.png", "cut.jpg"]);
}

/// A PNG whose header says 0 x 5 pixels, with valid checksums.
fn zero_width_png() -> Vec<u8> {
    fn crc(bytes: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
        out
    };
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &[0, 0, 0, 0, 0, 0, 0, 5, 8, 2, 0, 0, 0]));
    png.extend(chunk(b"IEND", &[]));
    png
}

#[test]
fn a_zero_sized_image() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("empty.png"), zero_width_png()).unwrap();
    let err = fails(dir.path(), &["empty.png", "-o", "out.png"], 2);
    assert!(err.contains("empty.png"), "{err}");
    no_outputs(dir.path(), &["empty.png"]);
}

#[test]
fn k_zero_and_k_over_256() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for k in ["0", "257", "1000"] {
        let err = fails(dir.path(), &["p.png", "-k", k, "-o", "out.png"], 2);
        assert!(
            err.contains(&format!("-k {k}")) && err.contains("1 to 256"),
            "{err}"
        );
        assert!(err.contains("hint: "), "{err}");
    }
    no_outputs(dir.path(), &["p.png"]);
}

#[test]
fn other_invalid_settings() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for (flag, value, says) in [
        ("--n-init", "0", "--n-init"),
        ("--max-iter", "0", "--max-iter"),
        ("--tol", "-1", "--tol"),
        ("--max-pixels", "0", "--max-pixels"),
        ("--pixel-limit", "0", "--pixel-limit"),
        ("--threads", "0", "1..=256"),
        ("--threads", "100000", "1..=256"),
        ("--n-init", "1001", "1..=1000"),
    ] {
        let err = fails(dir.path(), &["p.png", flag, value, "-o", "out.png"], 2);
        assert!(err.contains(says), "{flag}: {err}");
    }
    // A value clap itself rejects also exits 2.
    pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "p.png", "--init", "best"])
        .assert()
        .code(2);
    no_outputs(dir.path(), &["p.png"]);
}

#[test]
fn an_image_over_the_pixel_limit() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    let err = fails(
        dir.path(),
        &["p.png", "--pixel-limit", "1000", "-o", "out.png"],
        2,
    );
    assert!(
        err.contains("p.png") && err.contains("hint: ") && err.contains("--pixel-limit"),
        "{err}"
    );
    no_outputs(dir.path(), &["p.png"]);
}

#[test]
fn an_existing_output_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    fs::write(dir.path().join("out.png"), "precious").unwrap();
    let err = fails(dir.path(), &["p.png", "-o", "out.png"], 2);
    assert!(err.contains("out.png") && err.contains("--force"), "{err}");
    assert_eq!(fs::read(dir.path().join("out.png")).unwrap(), b"precious");
    pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "p.png", "-o", "out.png", "--force"])
        .assert()
        .success();
    assert_ne!(fs::read(dir.path().join("out.png")).unwrap(), b"precious");
}

#[test]
fn an_output_folder_that_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    fs::write(dir.path().join("file"), "a file, not a folder").unwrap();
    let err = fails(dir.path(), &["p.png", "-o", "file/out.png"], 2);
    assert!(
        err.contains("file/out.png: file is a file, not a folder"),
        "{err}"
    );
    let err = fails(dir.path(), &["p.png", "p.png", "-o", "file/sub"], 2);
    assert!(err.contains("file/sub"), "{err}");
    let err = crate::fails_with(
        dir.path(),
        &["segment", "p.png", "-k", "2", "-o", "file/sub"],
        2,
    );
    assert!(
        err.contains("cannot write file/sub: file is a file, not a folder"),
        "{err}"
    );
    // Refused before any work, so no figures were printed.
    assert!(!err.contains("inertia"), "{err}");
    for command in ["elbow", "grid", "scatter"] {
        let err = crate::fails_with(dir.path(), &[command, "p.png", "-o", "file/sub/"], 2);
        assert!(
            err.contains(&format!(
                "cannot write file/sub/p-{command}.png: file is a file, not a folder"
            )),
            "{err}"
        );
    }
    no_outputs(dir.path(), &["p.png", "file"]);
}

#[test]
fn an_unknown_output_extension() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    let err = fails(dir.path(), &["p.png", "-o", "out.xyz"], 2);
    assert!(err.contains("out.xyz") && err.contains("png"), "{err}");
    assert!(!err.contains("hint"), "{err}");
    // No extension at all: most likely a folder without its slash.
    let err = fails(dir.path(), &["p.png", "-o", "small"], 2);
    assert!(err.contains("hint: ") && err.contains("-o small/"), "{err}");
    // Unless it is a file already.
    fs::write(dir.path().join("Notes"), "text").unwrap();
    let err = fails(dir.path(), &["p.png", "-o", "Notes", "--force"], 2);
    assert!(!err.contains("hint"), "{err}");
    assert_eq!(fs::read(dir.path().join("Notes")).unwrap(), b"text");
    fs::remove_file(dir.path().join("Notes")).unwrap();
    no_outputs(dir.path(), &["p.png"]);
}

#[test]
fn a_folder_given_to_a_command_that_reads_one_image() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("photos")).unwrap();
    save_picture(&dir.path().join("photos/p.png"));
    for command in ["palette", "elbow", "grid", "scatter"] {
        let err = crate::fails_with(dir.path(), &[command, "photos"], 2);
        assert!(
            err.contains("photos is a folder") && err.contains("hint: "),
            "{command}: {err}"
        );
        assert!(!err.contains("os error"), "{command}: {err}");
    }
    no_outputs(dir.path(), &["photos"]);
}

#[test]
fn a_batch_with_some_bad_inputs_exits_1_and_writes_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("good.png"));
    fs::write(dir.path().join("bad.png"), "not a png").unwrap();
    let err = fails(dir.path(), &["good.png", "bad.png", "-o", "out"], 1);
    assert!(err.contains("bad.png"), "{err}");
    assert!(dir.path().join("out/good-k16.png").is_file());
    assert_eq!(fs::read_dir(dir.path().join("out")).unwrap().count(), 1);
    // With --json a failed input has its line too, in the inputs' order.
    let assert = pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "bad.png", "good.png", "-o", "out3/", "--json"])
        .assert()
        .code(1);
    let lines = crate::json_lines(&assert.get_output().stdout);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["input"], "bad.png");
    let error = lines[0]["error"].as_str().unwrap();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr);
    assert!(
        stderr.contains(&format!("error: {error}\n")),
        "{error} / {stderr}"
    );
    assert_eq!(lines[1]["input"], "good.png");
    assert_eq!(lines[1]["written"], true);
    // And so has a lone input, for quantize and segment alike.
    for (command, out) in [("quantize", "x.png"), ("segment", "seg")] {
        let assert = pixmeans()
            .current_dir(dir.path())
            .args([command, "bad.png", "-o", out, "--json"])
            .assert()
            .code(2);
        let lines = crate::json_lines(&assert.get_output().stdout);
        assert_eq!(lines.len(), 1, "{command}");
        assert_eq!(lines[0]["input"], "bad.png");
        assert_eq!(lines[0]["error"].as_str(), Some(error), "{command}");
    }
    let err = fails(dir.path(), &["bad.png", "missing.png", "-o", "out2"], 2);
    assert!(
        err.contains("bad.png") && err.contains("missing.png"),
        "{err}"
    );
}

#[test]
fn a_number_among_the_inputs_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("a.png"));
    // `--dither 0.5` for `--dither=0.5`, and `8` for `-k 8`: nothing is
    // written, and the hint shows how the value goes.
    for args in [
        &["a.png", "-k", "4", "--dither", "0.5"][..],
        &["a.png", "--dither", "0.5", "-o", "d.png"],
        &["a.png", "8"],
    ] {
        let err = fails(dir.path(), args, 2);
        assert!(err.contains("looks like a number"), "{err}");
        assert!(
            err.contains("--dither=0.5") && err.contains("-k 8"),
            "{err}"
        );
        no_outputs(dir.path(), &["a.png"]);
    }
    let err = crate::fails_with(dir.path(), &["segment", "a.png", "4", "-o", "s"], 2);
    assert!(
        err.contains("4 is not a file") && err.contains("-k 8"),
        "{err}"
    );
    no_outputs(dir.path(), &["a.png"]);
    // Words a float parser takes are likelier names that went missing.
    let err = fails(dir.path(), &["a.png", "nan", "-o", "out/"], 1);
    assert!(
        err.contains("nan") && !err.contains("looks like a number"),
        "{err}"
    );
    // A file that is named like a number is an input like any other.
    fs::copy(dir.path().join("a.png"), dir.path().join("8")).unwrap();
    pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "8", "-k", "3", "-o", "8.png"])
        .assert()
        .success();
}

#[test]
fn a_batch_into_one_file_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("a.png"));
    save_picture(&dir.path().join("b.png"));
    let err = fails(dir.path(), &["a.png", "b.png", "-o", "out.png"], 2);
    assert!(
        err.contains("out.png") && err.contains("2 inputs") && err.contains("hint: "),
        "{err}"
    );
    no_outputs(dir.path(), &["a.png", "b.png"]);
}

#[test]
fn outputs_never_overwrite_inputs_even_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    fs::create_dir(&photos).unwrap();
    // b.png's output would be a.png if it were named by -o.
    save_picture(&photos.join("a.png"));
    let before = fs::read(photos.join("a.png")).unwrap();
    let err = fails(
        dir.path(),
        &["photos/a.png", "-k", "2", "-o", "photos/a.png", "--force"],
        2,
    );
    assert!(err.contains("a.png") && err.contains("input"), "{err}");
    // An input in another folder that -k auto could name a-k<K>.png after.
    let other = dir.path().join("other");
    fs::create_dir(&other).unwrap();
    save_picture(&other.join("a-k16.png"));
    let err = fails(
        dir.path(),
        &[
            "photos/a.png",
            "other/a-k16.png",
            "-k",
            "auto",
            "-o",
            "other/",
            "--force",
        ],
        2,
    );
    assert!(
        err.contains("a-k16.png") && err.contains("-k auto"),
        "{err}"
    );
    assert_eq!(fs::read(photos.join("a.png")).unwrap(), before);
    assert_eq!(fs::read_dir(&photos).unwrap().count(), 1);
    assert_eq!(fs::read_dir(&other).unwrap().count(), 1);
    // An input named as a.png's output: left out, and still not replaced.
    fs::copy(photos.join("a.png"), photos.join("a-k16.png")).unwrap();
    let err = fails(dir.path(), &["photos", "-o", "photos", "--force"], 2);
    assert!(err.contains("a-k16.png is not replaced"), "{err}");
    assert_eq!(fs::read(photos.join("a-k16.png")).unwrap(), before);
    assert_eq!(fs::read_dir(&photos).unwrap().count(), 2);
}

#[test]
fn k_auto_settings_out_of_place_or_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    let err = fails(dir.path(), &["p.png", "-k", "8", "--target-psnr", "30"], 2);
    assert!(err.contains("-k auto") && err.contains("hint: "), "{err}");
    let err = fails(
        dir.path(),
        &["p.png", "-k", "auto", "--max-delta-e", "-1"],
        2,
    );
    assert!(err.contains("--max-delta-e"), "{err}");
    let err = fails(dir.path(), &["p.png", "-k", "many"], 2);
    assert!(err.contains("auto"), "{err}");
    no_outputs(dir.path(), &["p.png"]);
}

#[test]
fn no_command_writes_its_picture_over_the_input() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    let before = fs::read(dir.path().join("p.png")).unwrap();
    for command in ["palette", "elbow", "grid", "scatter"] {
        let err = crate::fails_with(dir.path(), &[command, "p.png", "-o", "p.png", "--force"], 2);
        assert!(err.contains("p.png is the input"), "{command}: {err}");
        assert_eq!(fs::read(dir.path().join("p.png")).unwrap(), before);
    }
}

#[test]
fn settings_that_would_be_quietly_ignored_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for level in ["0", "1.5", "-1", "x"] {
        let err = fails(dir.path(), &["p.png", &format!("--dither={level}")], 2);
        assert!(err.contains("--dither"), "{err}");
    }
    // -k auto with a target chooses k by undithered figures.
    let err = fails(
        dir.path(),
        &["p.png", "-k", "auto", "--target-psnr", "30", "--dither"],
        2,
    );
    assert!(err.contains("--dither with --target-psnr"), "{err}");
    // Four pixels cannot hold eight colours.
    let err = fails(dir.path(), &["p.png", "-k", "8", "--max-pixels", "4"], 2);
    assert!(err.contains("--max-pixels 4 is below k = 8"), "{err}");
    // -o names the format by its extension; --format naming another is a
    // contradiction, not a choice.
    let err = fails(dir.path(), &["p.png", "--format", "gif", "-o", "q.png"], 2);
    assert!(
        err.contains("--format gif") && err.contains("q.png"),
        "{err}"
    );
    let err = crate::fails_with(
        dir.path(),
        &["segment", "p.png", "--spatial", "1", "--init", "wu"],
        2,
    );
    assert!(
        err.contains("--init wu") && err.contains("--spatial"),
        "{err}"
    );
    let err = crate::fails_with(
        dir.path(),
        &[
            "palette",
            "p.png",
            "-o",
            "s.png",
            "--swatch-width",
            "100000",
            "--swatch-height",
            "100000",
        ],
        2,
    );
    assert!(err.contains("over the pixel limit"), "{err}");
    no_outputs(dir.path(), &["p.png"]);
}

#[test]
fn an_empty_file_says_it_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("e.png"), b"").unwrap();
    let err = fails(dir.path(), &["e.png"], 2);
    assert!(err.contains("e.png is empty"), "{err}");
    no_outputs(dir.path(), &["e.png"]);
}

#[test]
fn standard_input_that_is_no_image_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "-", "-k", "4", "-o", "out.png"])
        .write_stdin(vec![0u8; 1 << 20])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("<stdin> is not an image"), "{err}");
    no_outputs(dir.path(), &[]);
}

#[test]
fn a_dither_level_out_of_range_is_refused_as_typed() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for (level, says) in [
        ("0", "above 0 and at most 1"),
        ("1.5", "above 0 and at most 1"),
        ("-0.5", "above 0 and at most 1"),
        ("NaN", "above 0 and at most 1"),
        // Reads as 0 in f32: the message must give what was typed.
        ("1e-300", "1e-300 is too small a level"),
        ("half", "not a number"),
    ] {
        let flag = format!("--dither={level}");
        let err = fails(dir.path(), &["p.png", &flag, "-o", "out.png"], 2);
        assert!(err.contains(says), "{flag}: {err}");
    }
    no_outputs(dir.path(), &["p.png"]);
}

#[test]
fn a_target_psnr_of_0_db_or_less_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for db in ["-5", "0"] {
        let args = ["p.png", "-k", "auto", "--target-psnr", db, "-o", "out.png"];
        let err = fails(dir.path(), &args, 2);
        assert!(
            err.contains("--target-psnr") && err.contains("above 0"),
            "{err}"
        );
        let err = crate::fails_with(
            dir.path(),
            &["palette", "p.png", "-k", "auto", "--target-psnr", db],
            2,
        );
        assert!(err.contains("--target-psnr"), "{err}");
    }
    no_outputs(dir.path(), &["p.png"]);
}

#[test]
fn compression_is_refused_where_no_png_is_written() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    let err = fails(
        dir.path(),
        &["p.png", "--compression", "best", "-o", "out.jpg"],
        2,
    );
    assert!(
        err.contains("--compression") && err.contains("out.jpg") && err.contains("jpeg"),
        "{err}"
    );
    let err = fails(
        dir.path(),
        &[
            "p.png",
            "--compression",
            "fast",
            "--format",
            "gif",
            "-o",
            "out/",
        ],
        2,
    );
    assert!(
        err.contains("--compression") && err.contains("gif"),
        "{err}"
    );
    let err = crate::fails_with(
        dir.path(),
        &["palette", "p.png", "--compression", "best", "-o", "p.gpl"],
        2,
    );
    assert!(
        err.contains("--compression") && err.contains("p.gpl"),
        "{err}"
    );
    let err = crate::fails_with(
        dir.path(),
        &[
            "segment",
            "p.png",
            "--only",
            "npy,json",
            "--compression",
            "best",
        ],
        2,
    );
    assert!(
        err.contains("--compression") && err.contains("labels.npy"),
        "{err}"
    );
    // elbow and scatter draw charts: the flag is not theirs.
    pixmeans()
        .current_dir(dir.path())
        .args(["elbow", "p.png", "--compression", "best"])
        .assert()
        .code(2);
    no_outputs(dir.path(), &["p.png"]);
    // Where a PNG is written, it sets the level: best is no larger.
    for level in ["fast", "best"] {
        let out = format!("{level}.png");
        pixmeans()
            .current_dir(dir.path())
            .args(["quantize", "p.png", "--compression", level, "-o", &out])
            .assert()
            .success();
        let swatch = format!("swatch-{level}.png");
        pixmeans()
            .current_dir(dir.path())
            .args(["palette", "p.png", "--compression", level, "-o", &swatch])
            .assert()
            .success();
    }
    let size = |name: &str| fs::metadata(dir.path().join(name)).unwrap().len();
    assert!(size("best.png") < size("fast.png"));
    assert!(size("swatch-best.png") < size("swatch-fast.png"));
}

#[test]
fn a_batch_that_writes_nothing_leaves_no_new_folder() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("bad.png"), "not a png").unwrap();
    fails(dir.path(), &["bad.png", "missing.png", "-o", "new/out"], 2);
    fails(dir.path(), &["bad.png", "-o", "one/"], 2);
    no_outputs(dir.path(), &["bad.png"]);
    // A folder that was there before stays, even empty, and even reached
    // through a folder the run made and removed again.
    fs::create_dir(dir.path().join("old")).unwrap();
    fails(dir.path(), &["bad.png", "missing.png", "-o", "old"], 2);
    fails(dir.path(), &["bad.png", "-o", "new/../old/"], 2);
    assert!(dir.path().join("old").is_dir());
    no_outputs(dir.path(), &["bad.png", "old"]);
}

#[cfg(unix)]
#[test]
fn an_output_keeps_the_bytes_of_an_input_name_that_is_not_utf8() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let dir = tempfile::tempdir().unwrap();
    let input = OsStr::from_bytes(b"caf\xe9.png");
    save_picture(&dir.path().join(input));
    pixmeans()
        .current_dir(dir.path())
        .arg("quantize")
        .arg(input)
        .args(["-k", "4", "-o", "out/"])
        .assert()
        .success();
    let written: Vec<_> = fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(written, [OsStr::from_bytes(b"caf\xe9-k4.png")]);
}

#[test]
fn grid_and_elbow_refuse_max_pixels_below_their_largest_k() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for command in ["grid", "elbow"] {
        let err = crate::fails_with(
            dir.path(),
            &[command, "p.png", "-k", "2,4,8", "--max-pixels", "5"],
            2,
        );
        assert!(err.contains("--max-pixels 5 is below k = 8"), "{err}");
    }
    no_outputs(dir.path(), &["p.png"]);
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_standard_output_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for args in [
        &["palette", "p.png"][..],
        &["quantize", "p.png", "-o", "-"],
        &["quantize", "p.png", "-o", "out.png", "--json"],
    ] {
        let full = fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        // assert_cmd captures standard output, so this runs the binary itself.
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("pixmeans"))
            .current_dir(dir.path())
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cannot write to standard output"),
            "{args:?}: {err}"
        );
    }
}

/// A GIF of two 8 x 6 frames, the first with no blue.
fn two_frame_gif() -> Vec<u8> {
    use image::codecs::gif::GifEncoder;
    use image::{Frame, RgbaImage};

    let mut gif = Vec::new();
    GifEncoder::new(&mut gif)
        .encode_frames((0..2u8).map(|i| {
            Frame::new(RgbaImage::from_fn(8, 6, |x, y| {
                image::Rgba([x as u8 * 30, y as u8 * 40, i * 200, 255])
            }))
        }))
        .unwrap();
    gif
}

#[test]
fn an_animation_is_read_as_its_first_frame_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("anim.gif"), two_frame_gif()).unwrap();
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "anim.gif", "-k", "4", "-o", "out.png"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("warning: anim.gif holds more than one frame") && err.contains("first"),
        "{err}"
    );
    let first = image::open(dir.path().join("out.png")).unwrap().to_rgb8();
    assert_eq!(first.dimensions(), (8, 6));
    assert!(
        first.pixels().all(|p| p[2] == 0),
        "the first frame's blue is 0"
    );
}

#[test]
fn a_batch_prints_an_animations_warning_with_its_own_report() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    fs::create_dir(&inputs).unwrap();
    save_picture(&inputs.join("a.png"));
    fs::write(inputs.join("b.gif"), two_frame_gif()).unwrap();
    save_picture(&inputs.join("c.png"));
    for command in ["quantize", "segment"] {
        let out = pixmeans()
            .current_dir(dir.path())
            .args([command, "in", "-k", "4", "-j", "3", "-o", command])
            .assert()
            .success();
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        let at = |s: &str| err.find(s).unwrap_or_else(|| panic!("{s}: {err}"));
        let warning = at("warning: in/b.gif holds more than one frame");
        assert!(at("in/a.png ->") < warning, "{command}: {err}");
        assert!(warning < at("in/b.gif ->"), "{command}: {err}");
        assert!(at("in/b.gif ->") < at("in/c.png ->"), "{command}: {err}");
    }
}

#[test]
fn every_command_prints_the_json_failure_line() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["palette", "elbow", "grid", "scatter"] {
        let out = pixmeans()
            .current_dir(dir.path())
            .args([command, "missing.png", "--json"])
            .assert()
            .code(2);
        let lines = crate::json_lines(&out.get_output().stdout);
        assert_eq!(lines.len(), 1, "{command}");
        assert_eq!(lines[0]["input"], "missing.png", "{command}");
        let error = lines[0]["error"].as_str().unwrap();
        assert!(
            error.contains("cannot read missing.png"),
            "{command}: {error}"
        );
    }
    // Standard input is named as a report names it, whenever it fails.
    for args in [
        &["palette", "-"][..],
        &["quantize", "-", "-o", "x.xyz"],
        &["quantize", "-", "-o", "x.png"],
    ] {
        let out = pixmeans()
            .current_dir(dir.path())
            .args(args)
            .arg("--json")
            .write_stdin(Vec::new())
            .assert()
            .code(2);
        let lines = crate::json_lines(&out.get_output().stdout);
        assert_eq!(lines[0]["input"], "<stdin>", "{args:?}");
    }
    // A setting refused before the input is read: the same line for a
    // lone input of quantize and segment.
    save_picture(&dir.path().join("p.png"));
    for (args, wrong) in [
        (["quantize", "p.png", "-o", "x.xyz"], "x.xyz"),
        (["segment", "p.png", "-k", "0"], "-k 0"),
    ] {
        let out = pixmeans()
            .current_dir(dir.path())
            .args(args)
            .arg("--json")
            .assert()
            .code(2);
        let lines = crate::json_lines(&out.get_output().stdout);
        assert_eq!(lines.len(), 1, "{args:?}");
        assert_eq!(lines[0]["input"], "p.png", "{args:?}");
        let error = lines[0]["error"].as_str().unwrap();
        assert!(error.contains(wrong), "{args:?}: {error}");
    }
}

#[test]
fn pictures_and_palette_files_refuse_standard_output_naming_a_file_to_use() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for (command, hint) in [
        ("elbow", "-o p-elbow.png"),
        ("grid", "-o p-grid.png"),
        ("scatter", "-o p-scatter.png"),
        ("palette", "without -o it prints the colours"),
    ] {
        let err = crate::fails_with(dir.path(), &[command, "p.png", "-o", "-"], 2);
        assert!(
            err.contains("not to standard output (-o -)") && err.contains(hint),
            "{command}: {err}"
        );
    }
    no_outputs(dir.path(), &["p.png"]);
}
