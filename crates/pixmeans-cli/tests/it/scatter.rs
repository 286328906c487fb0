//! `pixmeans scatter`: sampled pixels in 3-D colour space.

use std::collections::HashSet;

use crate::{json_lines, pixmeans, save_picture};

fn hex(s: &str) -> [u8; 3] {
    let v = u32::from_str_radix(&s[1..], 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

#[test]
fn the_picture_shows_own_colours_left_and_cluster_colours_right() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    let out = pixmeans()
        .current_dir(dir.path())
        .args([
            "scatter",
            "p.png",
            "-k",
            "4",
            "-o",
            "s.png",
            "--samples",
            "2000",
            "--json",
        ])
        .assert()
        .success();
    let report = json_lines(&out.get_output().stdout).remove(0);
    assert_eq!(report["samples"], 2000);
    let img = image::open(dir.path().join("s.png")).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1600, 800));
    let colours = |x0: u32, x1: u32| -> HashSet<[u8; 3]> {
        (x0..x1)
            .flat_map(|x| (0..800).map(move |y| (x, y)))
            .map(|(x, y)| img.get_pixel(x, y).0)
            .collect()
    };
    let (left, right) = (colours(0, 800), colours(800, 1600));
    // The left panel has many of the picture's own colours...
    assert!(left.len() > 300, "{} colours on the left", left.len());
    // ...and the right one every cluster colour.
    for c in report["palette"].as_array().unwrap() {
        assert!(right.contains(&hex(c.as_str().unwrap())), "{c} missing");
    }
}

#[test]
fn the_sample_is_of_opaque_pixels_only() {
    let dir = tempfile::tempdir().unwrap();
    // 60 x 50, the top 20 rows transparent: 1800 opaque pixels.
    image::RgbaImage::from_fn(60, 50, |x, y| {
        let a = if y < 20 { 0 } else { 255 };
        image::Rgba([(x * 4) as u8, (y * 5) as u8, 90, a])
    })
    .save(dir.path().join("p.png"))
    .unwrap();
    for (samples, drawn) in [("1000", 1000), ("5000", 1800)] {
        let out = pixmeans()
            .current_dir(dir.path())
            .args(["scatter", "p.png", "-k", "3", "-o", "s.html", "--force"])
            .args(["--samples", samples, "--json"])
            .assert()
            .success();
        let report = json_lines(&out.get_output().stdout).remove(0);
        assert_eq!(report["samples"], drawn);
        let page = std::fs::read_to_string(dir.path().join("s.html")).unwrap();
        assert!(
            page.contains(&format!("{drawn} of 1800 opaque pixels")),
            "{samples}: no such title"
        );
    }
}

#[test]
fn the_page_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    pixmeans()
        .current_dir(dir.path())
        .args([
            "scatter",
            "p.png",
            "-k",
            "4",
            "-o",
            "s.html",
            "--color-space",
            "oklab",
        ])
        .assert()
        .success();
    let page = std::fs::read_to_string(dir.path().join("s.html")).unwrap();
    for external in [
        "http://", "https://", "//cdn", "src=", "<link", "@import", "url(",
    ] {
        assert!(!page.contains(external), "the page contains {external:?}");
    }
    assert!(page.contains("<canvas") && page.contains("<script>"));
    assert!(page.contains("\"L\"") && page.contains("oklab"));
    // 96 x 64 = 6144 pixels, so the default sample of 5000 is drawn whole.
    let own = page
        .split("C = [")
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap();
    assert_eq!(own.matches(',').count(), 5000);
}

#[test]
fn bad_settings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for (args, says) in [
        (&["--samples", "0"][..], "--samples must be at least 1"),
        (&["-o", "s.txt"][..], "expected .png or .html"),
        (&["-k", "0"][..], "out of range"),
    ] {
        let out = pixmeans()
            .current_dir(dir.path())
            .arg("scatter")
            .arg("p.png")
            .args(args)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
