//! `pixmeans elbow`: several k on one histogram, a table and a plot.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use crate::{pixmeans, run_json, save_picture, save_soft_picture};

/// `n` well-separated colours (corners of the RGB cube, inset) in equal
/// vertical bands, with a little noise: the elbow's knee must be at n.
fn blobs(path: &Path, n: usize) {
    let mut state = 11u32;
    let img = image::RgbImage::from_fn(120, 40, |x, _| {
        let i = x as usize * n / 120;
        image::Rgb([0, 1, 2].map(|bit| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let base: u8 = if i >> bit & 1 == 1 { 210 } else { 40 };
            base + (state >> 28) as u8
        }))
    });
    img.save(path).unwrap();
}

/// `n` flat colours in equal vertical bands, not a level of noise.
fn flat(path: &Path, n: usize) {
    let img = image::RgbImage::from_fn(60, 20, |x, _| {
        let i = x as usize * n / 60;
        image::Rgb([
            (i * 97 % 256) as u8,
            (i * 53 % 256) as u8,
            (255 - i * 25) as u8,
        ])
    });
    img.save(path).unwrap();
}

#[test]
fn elbow_figures_equal_quantize_figures_for_the_same_k_and_seed() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    save_soft_picture(&dir.path().join("soft.png"));
    for (name, space) in [("p.png", "srgb"), ("p.png", "oklab"), ("soft.png", "srgb")] {
        let elbow = run_json(
            dir.path(),
            &[
                "elbow",
                name,
                "--k",
                "2..5",
                "--seed",
                "7",
                "--color-space",
                space,
                "-o",
                &format!("e-{space}-{name}"),
            ],
        );
        let rows = elbow["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 4);
        for row in rows {
            let k = row["k"].as_u64().unwrap().to_string();
            let q = run_json(
                dir.path(),
                &[
                    "quantize",
                    name,
                    "-k",
                    &k,
                    "--seed",
                    "7",
                    "--color-space",
                    space,
                    "-o",
                    &format!("q-{space}-{k}-{name}"),
                ],
            );
            assert_eq!(row["inertia"], q["inertia"], "k = {k} ({space}, {name})");
            assert_eq!(row["mse"], q["mse"], "k = {k}");
            assert_eq!(row["psnr"], q["psnr"], "k = {k}");
            assert_eq!(row["delta_e_mean"], q["delta_e"]["mean"], "k = {k}");
            assert_eq!(row["delta_e_p95"], q["delta_e"]["p95"], "k = {k}");
            assert_eq!(row["iterations"], q["iterations"], "k = {k}");
            assert_eq!(row["indexed_bytes"], q["sizes"]["indexed_bytes"], "k = {k}");
        }
    }
}

#[test]
fn the_suggested_k_is_the_number_of_colour_blobs() {
    let dir = tempfile::tempdir().unwrap();
    for n in [3, 5, 8] {
        let name = format!("blobs{n}.png");
        blobs(&dir.path().join(&name), n);
        let report = run_json(dir.path(), &["elbow", &name, "--k", "1..16"]);
        assert_eq!(report["suggested_k"], n, "{n} blobs: {report}");
        // The table marks the same k.
        let out = pixmeans()
            .current_dir(dir.path())
            .args(["elbow", &name, "--k", "1..16", "-o", &format!("t{n}.png")])
            .assert()
            .success();
        let table = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        let marked: Vec<&str> = table.lines().filter(|l| l.ends_with("<- knee")).collect();
        assert_eq!(marked.len(), 1, "{table}");
        assert_eq!(
            marked[0].split_whitespace().next(),
            Some(n.to_string().as_str())
        );
    }
}

#[test]
fn the_plot_is_a_full_picture_or_an_svg() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    pixmeans()
        .current_dir(dir.path())
        .args(["elbow", "p.png", "--k", "1..8"])
        .assert()
        .success();
    // Without -o the plot is named after the input.
    let plot = image::open(dir.path().join("p-elbow.png"))
        .unwrap()
        .to_rgb8();
    assert_eq!(plot.dimensions(), (1200, 700));
    let colours: HashSet<[u8; 3]> = plot.pixels().map(|p| p.0).collect();
    assert!(colours.len() > 50, "{} colours", colours.len());
    let ink = plot.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(
        ink > 20_000 && ink < 1200 * 700 / 2,
        "{ink} non-white pixels"
    );
    // The knee's red and the inertia's blue are both drawn.
    assert!(plot.pixels().any(|p| p.0 == [200, 30, 40]));
    assert!(plot.pixels().any(|p| p.0 == [31, 119, 180]));

    pixmeans()
        .current_dir(dir.path())
        .args(["elbow", "p.png", "--k", "2,4,8", "-o", "e.svg"])
        .assert()
        .success();
    let svg = std::fs::read_to_string(dir.path().join("e.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("k (number of colours)"));
}

#[test]
fn bad_ranges_and_lists_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for (ks, says) in [
        ("5..2", "the range 5..2 is empty"),
        ("0..3", "k = 0 is out of range"),
        ("2..300", "k = 300 is out of range"),
        ("", "got nothing"),
        ("2,4,4", "k = 4 is listed twice"),
        ("two", "expected a number of colours"),
    ] {
        for command in ["elbow", "grid"] {
            let out = pixmeans()
                .current_dir(dir.path())
                .args([command, "p.png", "--k", ks])
                .assert()
                .code(2);
            let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
            assert!(err.contains(says), "{command} --k {ks:?}: {err}");
        }
    }
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["elbow", "p.png", "-o", "e.jpg"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("e.jpg") && err.contains(".svg"), "{err}");
    std::fs::write(dir.path().join("e.png"), "keep").unwrap();
    pixmeans()
        .current_dir(dir.path())
        .args(["elbow", "p.png", "-o", "e.png"])
        .assert()
        .code(2);
    assert_eq!(std::fs::read(dir.path().join("e.png")).unwrap(), b"keep");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no other file written: {names:?}");
}

#[test]
fn k_auto_with_a_psnr_target_agrees_with_the_elbow_table() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    let q = run_json(
        dir.path(),
        &[
            "quantize",
            "p.png",
            "-k",
            "auto",
            "--target-psnr",
            "30",
            "-o",
            "q.png",
        ],
    );
    let k = q["k"].as_u64().unwrap();
    assert!(k > 1);
    let range = format!("{}..{k}", k - 1);
    let elbow = run_json(
        dir.path(),
        &["elbow", "p.png", "--k", &range, "-o", "e.png"],
    );
    let psnr = |i: usize| elbow["rows"][i]["psnr"].as_f64().unwrap();
    assert!(psnr(1) >= 30.0 && psnr(0) < 30.0, "k = {k}: {elbow}");
}

#[test]
fn the_plot_is_the_same_on_one_thread_or_two() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for j in ["1", "2"] {
        pixmeans()
            .current_dir(dir.path())
            .args([
                "elbow",
                "p.png",
                "--k",
                "1..6",
                "-j",
                j,
                "-o",
                &format!("e{j}.png"),
            ])
            .assert()
            .success();
        pixmeans()
            .current_dir(dir.path())
            .args(["scatter", "p.png", "-j", j, "-o", &format!("s{j}.html")])
            .assert()
            .success();
    }
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    assert!(read("e1.png") == read("e2.png"), "elbow plots differ");
    assert!(read("s1.html") == read("s2.html"), "scatter pages differ");
}

#[test]
fn help_texts() {
    for command in ["elbow", "grid", "scatter"] {
        let out = pixmeans()
            .args([command, "--help"])
            .env("COLUMNS", "100")
            .assert()
            .success();
        insta::assert_snapshot!(
            format!("{command}_help"),
            String::from_utf8_lossy(&out.get_output().stdout)
        );
    }
}

#[test]
fn by_default_elbow_marks_the_k_that_quantize_k_auto_takes() {
    let dir = tempfile::tempdir().unwrap();
    // Two blobs: a knee at k = 2 needs k = 1 in the range.
    blobs(&dir.path().join("two.png"), 2);
    save_picture(&dir.path().join("p.png"));
    save_soft_picture(&dir.path().join("soft.png"));
    // Fewer colours than the range: once -k auto chose k = 1 here.
    flat(&dir.path().join("three.png"), 3);
    flat(&dir.path().join("ten.png"), 10);
    for name in ["two.png", "p.png", "soft.png", "three.png", "ten.png"] {
        let elbow = run_json(dir.path(), &["elbow", name, "-o", "e.png", "--force"]);
        let rows = elbow["rows"].as_array().unwrap();
        assert_eq!((rows[0]["k"].as_u64(), rows.len()), (Some(1), 16), "{name}");
        let auto = run_json(
            dir.path(),
            &["quantize", name, "-k", "auto", "-o", "q.png", "--force"],
        );
        assert!(elbow["suggested_k"].is_u64(), "{name}: {elbow}");
        assert_eq!(elbow["suggested_k"], auto["k"], "{name}");
    }
    let elbow = run_json(dir.path(), &["elbow", "two.png", "-o", "e.png", "--force"]);
    assert_eq!(elbow["suggested_k"], 2);
    let elbow = run_json(
        dir.path(),
        &["elbow", "three.png", "-o", "e.png", "--force"],
    );
    assert_eq!(elbow["suggested_k"], 3);
}

#[test]
fn a_folder_for_a_picture_gets_the_default_name_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    fs::create_dir(dir.path().join("plots")).unwrap();
    for (args, made) in [
        (["elbow", "p.png", "-o", "plots"], "plots/p-elbow.png"),
        (["grid", "p.png", "-o", "plots/"], "plots/p-grid.png"),
        (["scatter", "p.png", "-o", "new/"], "new/p-scatter.png"),
    ] {
        pixmeans()
            .current_dir(dir.path())
            .args(args)
            .args(["-k", "2"])
            .assert()
            .success();
        let png = image::open(dir.path().join(made)).unwrap();
        assert!(png.width() > 100, "{made}");
    }
    // A file in a missing folder is refused before any work.
    let err = crate::fails_with(dir.path(), &["elbow", "p.png", "-o", "gone/e.png"], 2);
    assert!(
        err.contains("cannot write gone/e.png: the folder gone does not exist"),
        "{err}"
    );
    let err = crate::fails_with(dir.path(), &["palette", "p.png", "-o", "plots/"], 2);
    assert!(
        err.contains("plots/ is a folder, but palette -o names a file"),
        "{err}"
    );
    assert!(!dir.path().join("gone").exists());
}
