//! `pixmeans palette`: the main colours and their shares.

use std::fs;
use std::path::Path;

use crate::{json_lines, pixmeans};

/// 10 x 10: 50 red, 30 green and 20 dark-blue pixels.
fn three_colours(path: &Path) {
    let img = image::RgbImage::from_fn(10, 10, |x, y| {
        let i = y * 10 + x;
        image::Rgb(if i < 50 {
            [220, 30, 30]
        } else if i < 80 {
            [40, 180, 60]
        } else {
            [20, 30, 120]
        })
    });
    img.save(path).unwrap();
}

#[test]
fn lists_each_colour_with_its_share_most_first() {
    let dir = tempfile::tempdir().unwrap();
    three_colours(&dir.path().join("p.png"));
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["palette", "p.png", "-k", "3"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("#dc1e1e   50.0%"), "{stdout}");
    assert!(lines[1].starts_with("#28b43c   30.0%"), "{stdout}");
    assert!(lines[2].starts_with("#141e78   20.0%"), "{stdout}");
}

#[test]
fn sorts_by_lightness_and_hue() {
    let dir = tempfile::tempdir().unwrap();
    three_colours(&dir.path().join("p.png"));
    let hexes = |sort: &str| -> Vec<String> {
        let out = pixmeans()
            .current_dir(dir.path())
            .args(["palette", "p.png", "-k", "3", "--json", "--sort", sort])
            .assert()
            .success();
        let report = json_lines(&out.get_output().stdout).remove(0);
        report["colors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["hex"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(hexes("lightness"), ["#28b43c", "#dc1e1e", "#141e78"]);
    assert_eq!(hexes("hue"), ["#dc1e1e", "#28b43c", "#141e78"]);
}

#[test]
fn writes_a_gimp_palette_json_and_a_proportional_swatch() {
    let dir = tempfile::tempdir().unwrap();
    three_colours(&dir.path().join("p.png"));
    pixmeans()
        .current_dir(dir.path())
        .args(["palette", "p.png", "-k", "3", "-o", "p.gpl"])
        .assert()
        .success();
    let gpl = fs::read_to_string(dir.path().join("p.gpl")).unwrap();
    assert!(
        gpl.starts_with("GIMP Palette\nName: p (pixmeans, k = 3)\n"),
        "{gpl}"
    );
    assert!(gpl.contains("220  30  30\t#dc1e1e 50.0%"), "{gpl}");

    pixmeans()
        .current_dir(dir.path())
        .args(["palette", "p.png", "-k", "3", "-o", "p.json"])
        .assert()
        .success();
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("p.json")).unwrap()).unwrap();
    assert_eq!(json["colors"][2]["pixels"], 20);

    pixmeans()
        .current_dir(dir.path())
        .args([
            "palette",
            "p.png",
            "-k",
            "3",
            "-o",
            "s.png",
            "--swatch-width",
            "200",
            "--swatch-height",
            "10",
        ])
        .assert()
        .success();
    let swatch = image::open(dir.path().join("s.png")).unwrap().to_rgb8();
    assert_eq!(swatch.dimensions(), (200, 10));
    let count = |rgb: [u8; 3]| {
        (0..200)
            .filter(|&x| swatch.get_pixel(x, 5).0 == rgb)
            .count()
    };
    assert_eq!(
        (
            count([220, 30, 30]),
            count([40, 180, 60]),
            count([20, 30, 120])
        ),
        (100, 60, 40)
    );
}

#[test]
fn refuses_an_unknown_file_kind_and_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    three_colours(&dir.path().join("p.png"));
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["palette", "p.png", "-o", "p.txt"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("p.txt") && err.contains(".gpl"), "{err}");
    fs::write(dir.path().join("p.gpl"), "keep").unwrap();
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["palette", "p.png", "-o", "p.gpl"])
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("--force"));
    assert_eq!(
        fs::read_to_string(dir.path().join("p.gpl")).unwrap(),
        "keep"
    );
    pixmeans()
        .current_dir(dir.path())
        .args(["palette", "missing.png"])
        .assert()
        .code(2);
}

#[test]
fn a_swatch_of_no_colours_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    image::RgbaImage::new(8, 8)
        .save(dir.path().join("clear.png"))
        .unwrap();
    let err = crate::fails_with(dir.path(), &["palette", "clear.png", "-o", "s.png"], 2);
    assert!(err.contains("clear.png: it has no opaque pixels"), "{err}");
    assert!(!dir.path().join("s.png").exists());
}

#[test]
fn verbose_prints_the_fits_iterations() {
    let dir = tempfile::tempdir().unwrap();
    crate::save_picture(&dir.path().join("p.png"));
    for args in [
        &["palette", "p.png", "-k", "4", "-v"][..],
        &["grid", "p.png", "--k", "2,4", "-o", "g.png", "-v"][..],
        &["scatter", "p.png", "-k", "4", "-o", "s.png", "-v"][..],
    ] {
        let out = pixmeans()
            .current_dir(dir.path())
            .args(args)
            .assert()
            .success();
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains("iteration   1: inertia"),
            "{}: {stderr}",
            args[0]
        );
    }
}

#[test]
fn k_auto_reports_how_k_was_chosen_as_quantize_does() {
    let dir = tempfile::tempdir().unwrap();
    crate::save_picture(&dir.path().join("p.png"));
    let json = |command: &str, extra: &[&str]| {
        let assert = pixmeans()
            .current_dir(dir.path())
            .args([command, "p.png", "-k", "auto", "--json", "-q"])
            .args(extra)
            .assert()
            .success();
        json_lines(&assert.get_output().stdout).remove(0)
    };
    let palette = json("palette", &[]);
    let quantize = json("quantize", &["-o", "q.png"]);
    assert_eq!(palette["k_choice"]["method"], "knee");
    assert_eq!(palette["k_choice"], quantize["k_choice"]);
    assert_eq!(palette["k"], palette["k_choice"]["k"]);
}
