//! `pixmeans grid`: the original and its quantized versions side by side.

use std::collections::HashSet;

use crate::{json_lines, picture, pixmeans, run_json, save_picture, save_soft_picture};

#[test]
fn tiles_show_the_original_and_each_k_with_real_png_sizes() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["grid", "p.png", "--k", "2,4", "-o", "g.png", "--json"])
        .assert()
        .success();
    let report = json_lines(&out.get_output().stdout).remove(0);
    let grid = image::open(dir.path().join("g.png")).unwrap().to_rgb8();
    // Three 480 x 320 tiles in a row, 16-pixel gaps, a title and captions.
    assert_eq!(
        grid.dimensions(),
        (16 + 3 * (480 + 16), 48 + 16 + 320 + 34 + 16)
    );
    let tile = |i: u32| {
        let x0 = 16 + i * (480 + 16);
        (0..320).flat_map(move |y| (0..480).map(move |x| (x0 + x, 64 + y)))
    };
    // The 96 x 64 original is enlarged 5 times by nearest neighbour.
    let original = picture();
    assert_eq!(
        grid.get_pixel(16 + 5 * 10 + 2, 64 + 5 * 7 + 2).0,
        original.get_pixel(10, 7).0
    );
    // Each quantized tile holds exactly its k colours.
    for (i, k) in [(1, 2), (2, 4)] {
        let colours: HashSet<[u8; 3]> = tile(i).map(|(x, y)| grid.get_pixel(x, y).0).collect();
        assert_eq!(colours.len(), k, "tile of k = {k}");
    }
    // The bytes in the captions are those quantize writes.
    for t in report["tiles"].as_array().unwrap() {
        let k = t["k"].as_u64().unwrap().to_string();
        let q = pixmeans()
            .current_dir(dir.path())
            .args([
                "quantize",
                "p.png",
                "-k",
                &k,
                "-o",
                &format!("q{k}.png"),
                "--json",
            ])
            .assert()
            .success();
        let q = json_lines(&q.get_output().stdout).remove(0);
        assert_eq!(t["png_bytes"], q["sizes"]["output_bytes"], "k = {k}");
        assert_eq!(t["psnr"], q["psnr"], "k = {k}");
    }
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("original · ") && stderr.contains("k = 4 · "),
        "{stderr}"
    );
}

#[test]
fn a_partly_transparent_image_has_the_captions_of_what_quantize_writes() {
    let dir = tempfile::tempdir().unwrap();
    save_soft_picture(&dir.path().join("soft.png"));
    let report = run_json(
        dir.path(),
        &["grid", "soft.png", "--k", "3,8", "-o", "g.png"],
    );
    for t in report["tiles"].as_array().unwrap() {
        let k = t["k"].as_u64().unwrap().to_string();
        let out = format!("q{k}.png");
        let q = run_json(dir.path(), &["quantize", "soft.png", "-k", &k, "-o", &out]);
        assert_eq!(q["opacity"], true);
        assert_eq!(t["png_bytes"], q["sizes"]["output_bytes"], "k = {k}");
        assert_eq!(t["psnr"], q["psnr"], "k = {k}");
        assert_eq!(t["delta_e_mean"], q["delta_e"]["mean"], "k = {k}");
    }
}

#[test]
fn a_grid_is_a_png_and_never_replaces_a_file_unasked() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["grid", "p.png", "-o", "g.svg"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("g.svg") && err.contains(".png"), "{err}");
    pixmeans()
        .current_dir(dir.path())
        .args(["grid", "p.png"])
        .assert()
        .success();
    assert!(dir.path().join("p-grid.png").is_file());
    pixmeans()
        .current_dir(dir.path())
        .args(["grid", "p.png"])
        .assert()
        .code(2);
}
