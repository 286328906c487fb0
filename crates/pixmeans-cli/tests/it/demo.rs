//! `pixmeans demo`: the README's first command.

use crate::{decode_indexed, json_lines, pixmeans};

#[test]
fn demo_writes_five_quantized_photos_and_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = pixmeans()
        .current_dir(dir.path())
        .arg("demo")
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(rows.len(), 6, "{stdout}");
    assert!(rows[0].contains("iterations") && rows[0].contains("PSNR"));
    let folder = dir.path().join("pixmeans-demo");
    assert!(folder.join("coffee.png").is_file());
    for (k, depth) in [(2, 1), (4, 2), (8, 4), (16, 4), (32, 8)] {
        let (d, palette, _) = decode_indexed(&folder.join(format!("coffee-k{k}.png")));
        assert_eq!((d, palette.len()), (depth, k));
    }
    // The pictures that explain it, and the page that shows them.
    for (name, size) in [
        ("elbow.png", (1200, 700)),
        ("grid.png", (16 + 3 * 496, 48 + 16 + 2 * (320 + 34 + 16))),
        ("palette-k8.png", (800, 100)),
        ("scatter.png", (1600, 800)),
    ] {
        let img = image::open(folder.join(name)).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), size, "{name}");
        let colours: std::collections::HashSet<_> = img.pixels().map(|p| p.0).collect();
        assert!(colours.len() >= 8, "{name}: {} colours", colours.len());
    }
    let scatter = std::fs::read_to_string(folder.join("scatter.html")).unwrap();
    assert!(!scatter.contains("http") && !scatter.contains("src="));
    let index = std::fs::read_to_string(folder.join("index.html")).unwrap();
    for file in std::fs::read_dir(&folder).unwrap() {
        let name = file.unwrap().file_name().into_string().unwrap();
        if name != "index.html" {
            assert!(
                index.contains(&format!("<a href=\"{name}\">")),
                "{name} not listed"
            );
        }
    }
    assert!(!index.contains("http"));
    // Running it again replaces its own files.
    pixmeans()
        .current_dir(dir.path())
        .arg("demo")
        .assert()
        .success();
}

#[test]
fn demo_quality_rises_with_k() {
    let dir = tempfile::tempdir().unwrap();
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["demo", "--json", "-o", "d"])
        .assert()
        .success();
    let reports = json_lines(&out.get_output().stdout);
    assert_eq!(reports.len(), 5);
    let psnr: Vec<f64> = reports
        .iter()
        .map(|r| r["psnr"].as_f64().unwrap())
        .collect();
    assert!(psnr.windows(2).all(|w| w[0] < w[1]), "{psnr:?}");
    assert!(psnr[4] > 30.0, "{psnr:?}");
}

#[test]
fn demo_leaves_files_it_did_not_write_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("index.html"), "my notes").unwrap();
    std::fs::write(mine.join("grid.png"), "my grid").unwrap();
    let err = crate::fails_with(dir.path(), &["demo", "-o", "mine"], 2);
    assert!(
        err.contains("index.html, grid.png") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(mine.join("index.html")).unwrap(),
        "my notes"
    );
    assert_eq!(
        std::fs::read_to_string(mine.join("grid.png")).unwrap(),
        "my grid"
    );
    assert_eq!(std::fs::read_dir(&mine).unwrap().count(), 2);
}

#[test]
fn demo_refuses_standard_output_and_a_file_for_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let err = crate::fails_with(dir.path(), &["demo", "-o", "-"], 2);
    assert!(err.contains("standard output"), "{err}");
    assert!(!dir.path().join("-").exists());
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let err = crate::fails_with(dir.path(), &["demo", "-o", "notes.txt"], 2);
    assert!(err.contains("notes.txt is a file"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "mine"
    );
}
