//! `pixmeans quantize` doing its job.

use std::fs;

use crate::{decode_indexed, json_lines, picture, pixmeans, save_picture};

#[test]
fn writes_an_indexed_png_whose_every_pixel_is_a_palette_colour() {
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (dir.path().join("photo.png"), dir.path().join("out.png"));
    save_picture(&input);
    let assert = pixmeans()
        .arg("quantize")
        .arg(&input)
        .args(["-k", "16", "-o"])
        .arg(&out)
        .arg("--json")
        .assert()
        .success();
    let (depth, palette, rgb) = decode_indexed(&out);
    assert_eq!(depth, 4);
    assert_eq!(palette.len(), 16);
    assert!(
        rgb.chunks_exact(3)
            .all(|p| palette.contains(&[p[0], p[1], p[2]]))
    );

    // The reported figures are those of the file written.
    let report = &json_lines(&assert.get_output().stdout)[0];
    let mse = mse_between(&picture().into_raw(), &rgb);
    assert!((report["mse"].as_f64().unwrap() - mse).abs() < 1e-9);
    assert!(
        (report["psnr"].as_f64().unwrap() - 10.0 * (255.0f64.powi(2) / mse).log10()).abs() < 1e-9
    );
    assert_eq!(
        report["sizes"]["output_bytes"].as_u64().unwrap(),
        fs::metadata(&out).unwrap().len()
    );
    assert_eq!(
        report["sizes"]["input_bytes"].as_u64().unwrap(),
        fs::metadata(&input).unwrap().len()
    );
    assert_eq!(report["sizes"]["raw_bytes"], 96 * 64 * 3);
    assert_eq!(report["sizes"]["packed_index_bytes"], 96 * 64 * 4 / 8);
    assert_eq!(report["sizes"]["palette_bytes"], 16 * 3);
}

/// Mean squared error between two images' bytes.
fn mse_between(a: &[u8], b: &[u8]) -> f64 {
    let sse: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    sse / a.len() as f64
}

#[test]
fn bit_depth_follows_k() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("photo.png");
    save_picture(&input);
    for (k, depth) in [(2, 1), (4, 2), (5, 4), (16, 4), (17, 8), (256, 8)] {
        let out = dir.path().join(format!("k{k}.png"));
        pixmeans()
            .arg("quantize")
            .arg(&input)
            .args(["-k", &k.to_string(), "-o"])
            .arg(&out)
            .assert()
            .success();
        let (d, palette, _) = decode_indexed(&out);
        assert_eq!((k, d), (k, depth));
        assert!(palette.len() <= k);
    }
}

#[test]
fn format_takes_the_other_names_of_jpeg_and_tiff() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for (format, name) in [("jpeg", "p-k4.jpg"), ("tif", "p-k4.tiff")] {
        pixmeans()
            .current_dir(dir.path())
            .args(["quantize", "p.png", "-k", "4", "--format", format])
            .assert()
            .success();
        assert!(dir.path().join(name).is_file(), "--format {format}");
    }
}

#[test]
fn other_extensions_write_other_formats() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("photo.png");
    save_picture(&input);
    for ext in ["gif", "webp", "bmp", "tiff", "jpg"] {
        let out = dir.path().join(format!("out.{ext}"));
        pixmeans()
            .arg("quantize")
            .arg(&input)
            .args(["-k", "8", "-o"])
            .arg(&out)
            .assert()
            .success();
        let img = image::open(&out).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (96, 64), "{ext}");
        if ext != "jpg" {
            let mut colors: Vec<_> = img.pixels().map(|p| p.0).collect();
            colors.sort_unstable();
            colors.dedup();
            assert!(colors.len() <= 8, "{ext}: {} colours", colors.len());
        }
    }
}

#[test]
fn a_jpeg_file_reports_its_own_figures_too() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("photo.png"));
    let original = image::open(dir.path().join("photo.png")).unwrap().to_rgb8();
    for ext in ["jpg", "png"] {
        let out = pixmeans()
            .current_dir(dir.path())
            .args(["quantize", "photo.png", "-k", "8", "--json", "-o"])
            .arg(format!("out.{ext}"))
            .assert()
            .success();
        let report = json_lines(&out.get_output().stdout).remove(0);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        if ext == "png" {
            assert!(report.get("lossy_file").is_none());
            assert!(!stderr.contains("the JPEG file itself"), "{stderr}");
            continue;
        }
        // The file as decoded again: more colours than k, and an error of
        // its own, which the report gives beside the quantized image's.
        let back = image::open(dir.path().join("out.jpg")).unwrap().to_rgb8();
        let sse: u64 = original
            .as_raw()
            .iter()
            .zip(back.as_raw())
            .map(|(&a, &b)| u64::from(a.abs_diff(b)).pow(2))
            .sum();
        let mse = sse as f64 / original.as_raw().len() as f64;
        let mut colours: Vec<_> = back.pixels().map(|p| p.0).collect();
        colours.sort_unstable();
        colours.dedup();
        let file = &report["lossy_file"];
        assert!((file["mse"].as_f64().unwrap() - mse).abs() < 1e-9 * mse.max(1.0));
        assert_eq!(file["colors"].as_u64(), Some(colours.len() as u64));
        assert!(colours.len() > 8);
        assert_ne!(file["mse"], report["mse"]);
        assert!(stderr.contains("the JPEG file itself: MSE"), "{stderr}");
    }
    // A file left unwritten (a flat picture's PNG is far smaller than any
    // JPEG of it) has no figures of its own.
    image::RgbImage::from_pixel(96, 64, image::Rgb([200, 30, 30]))
        .save(dir.path().join("flat.png"))
        .unwrap();
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "flat.png", "-k", "2", "-o", "flat.jpg"])
        .args(["--skip-if-larger", "--json"])
        .assert()
        .success();
    let report = json_lines(&out.get_output().stdout).remove(0);
    assert_eq!(report["written"], false);
    assert!(report.get("lossy_file").is_none());
}

#[test]
fn a_folder_goes_into_an_output_folder_with_one_report_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    fs::create_dir(&photos).unwrap();
    for name in ["a.png", "b.bmp", "c.jpg"] {
        save_picture(&photos.join(name));
    }
    fs::write(photos.join("notes.txt"), "not an image").unwrap();
    let out = dir.path().join("small");
    let assert = pixmeans()
        .arg("quantize")
        .arg(&photos)
        .args(["-k", "4", "--json", "-o"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(json_lines(&assert.get_output().stdout).len(), 3);
    // Named as they are outside a folder, so that runs at other k can
    // share it.
    for name in ["a-k4.png", "b-k4.png", "c-k4.png"] {
        assert_eq!(decode_indexed(&out.join(name)).0, 2);
    }
}

#[test]
fn one_or_two_threads_write_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("photo.png");
    save_picture(&input);
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("t{threads}.png"));
        pixmeans()
            .arg("quantize")
            .arg(&input)
            .args(["-k", "12", "--color-space", "oklab", "-j", threads, "-o"])
            .arg(&out)
            .assert()
            .success();
        outputs.push(fs::read(&out).unwrap());
    }
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn a_batch_reports_in_input_order_and_writes_the_same_bytes_on_any_threads() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    fs::create_dir(&photos).unwrap();
    // The first is the largest, so with two at a time later ones finish
    // first; d.png is broken.
    for (name, scale) in [
        ("a.png", 6),
        ("b.png", 1),
        ("c.png", 2),
        ("e.png", 1),
        ("f.png", 3),
    ] {
        let small = picture();
        image::imageops::resize(
            &small,
            96 * scale,
            64 * scale,
            image::imageops::FilterType::Triangle,
        )
        .save(photos.join(name))
        .unwrap();
    }
    fs::write(photos.join("d.png"), b"\x89PNG broken").unwrap();
    let mut runs = Vec::new();
    for threads in ["1", "2", "3"] {
        let out = dir.path().join(format!("out{threads}"));
        let assert = pixmeans()
            .arg("quantize")
            .arg(&photos)
            .args(["-k", "6", "--json", "-j", threads, "-o"])
            .arg(&out)
            .assert()
            .code(1);
        let output = assert.get_output();
        let inputs: Vec<String> = json_lines(&output.stdout)
            .iter()
            .map(|l| {
                l["input"]
                    .as_str()
                    .unwrap()
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            inputs,
            ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png"],
            "-j {threads}"
        );
        let failed = &json_lines(&output.stdout)[3];
        assert!(
            failed["error"].as_str().unwrap().contains("d.png"),
            "{failed}"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("d.png"), "-j {threads}: {stderr}");
        // Each image's summary line comes in the inputs' order too.
        let order: Vec<usize> = ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png"]
            .iter()
            .map(|n| stderr.find(n).unwrap())
            .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "-j {threads}: {stderr}"
        );
        let files: Vec<Vec<u8>> = ["a", "b", "c", "e", "f"]
            .iter()
            .map(|n| fs::read(out.join(format!("{n}-k6.png"))).unwrap())
            .collect();
        assert_eq!(fs::read_dir(&out).unwrap().count(), 5);
        runs.push(files);
    }
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
}

#[test]
fn reads_standard_input_and_writes_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("photo.png");
    save_picture(&input);
    let assert = pixmeans()
        .args(["quantize", "-", "-k", "3", "-o", "-"])
        .write_stdin(fs::read(&input).unwrap())
        .assert()
        .success();
    let png = &assert.get_output().stdout;
    let img = image::load_from_memory(png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (96, 64));

    // Without -o too, as in pngquant: no file is made.
    let here = tempfile::tempdir().unwrap();
    let assert = pixmeans()
        .current_dir(here.path())
        .args(["quantize", "-", "-k", "3"])
        .write_stdin(fs::read(&input).unwrap())
        .assert()
        .success();
    assert_eq!(&assert.get_output().stdout, png);
    assert_eq!(fs::read_dir(here.path()).unwrap().count(), 0);
    // --json would share standard output with the image.
    let err = crate::fails_with(here.path(), &["quantize", "-", "-k", "3", "--json"], 2);
    assert!(
        err.contains("reading standard input without -o writes the image to standard output, where --json writes too")
            && err.contains("-o out.png"),
        "{err}"
    );
    // --skip-if-larger could leave the reader without an image.
    fs::copy(&input, here.path().join("in.png")).unwrap();
    let err = crate::fails_with(
        here.path(),
        &["quantize", "in.png", "-o", "-", "--skip-if-larger"],
        2,
    );
    assert!(
        err.contains("--skip-if-larger may leave it unwritten"),
        "{err}"
    );
    assert_eq!(fs::read_dir(here.path()).unwrap().count(), 1);
}

#[test]
fn transparent_pixels_stay_transparent() {
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (dir.path().join("logo.png"), dir.path().join("out.png"));
    let rgba = image::RgbaImage::from_fn(20, 10, |x, y| {
        if x < 10 {
            image::Rgba([x as u8 * 20, 0, 0, 0])
        } else {
            image::Rgba([0, (x * 10 + y) as u8, 200, 255])
        }
    });
    rgba.save(&input).unwrap();
    let assert = pixmeans()
        .arg("quantize")
        .arg(&input)
        .args(["-k", "4", "-o"])
        .arg(&out)
        .assert()
        .success();
    let back = image::open(&out).unwrap().to_rgba8();
    for (a, b) in rgba.pixels().zip(back.pixels()) {
        assert_eq!(a.0[3] == 0, b.0[3] == 0);
    }
    // The report counts the transparent entry beside the k colours, and
    // the index bits with it.
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr);
    assert!(
        stderr.contains(" -> 4 + transparent;") && stderr.contains("indices at 3 bits"),
        "{stderr}"
    );

    // A JPEG cannot keep them, and says so.
    let assert = pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "logo.png", "-k", "4", "-o", "out.jpg"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr);
    assert!(
        stderr.contains(
            "warning: out.jpg has no transparency (JPEG), so the transparent pixels of logo.png are written white"
        ),
        "{stderr}"
    );
    let back = image::open(dir.path().join("out.jpg")).unwrap().to_rgb8();
    assert!(back.get_pixel(2, 5).0.iter().all(|&c| c > 240));
}

#[test]
fn partly_transparent_pixels_keep_their_opacity() {
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = (dir.path().join("shadow.png"), dir.path().join("out.png"));
    // A fading shadow: alpha 0, then 7 steps from 31 to 223, then 255.
    let rgba =
        image::RgbaImage::from_fn(9, 4, |x, _| image::Rgba([10, 10, 10, (x * 255 / 8) as u8]));
    rgba.save(&input).unwrap();
    let quantize = |k: &str, extra: &[&str]| {
        let assert = pixmeans()
            .arg("quantize")
            .arg(&input)
            .args(["-k", k, "-f", "--json", "-o"])
            .arg(&out)
            .args(extra)
            .assert()
            .success();
        let output = assert.get_output();
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let back = image::open(&out).unwrap().to_rgba8();
        let alphas: Vec<u8> = back.pixels().take(9).map(|p| p.0[3]).collect();
        (report, stderr, alphas, back)
    };
    // As many colours as k: written exactly, opacity and all.
    let (report, stderr, _, back) = quantize("8", &[]);
    assert!(!stderr.contains("warning"), "{stderr}");
    let invisible_black = |p: &image::Rgba<u8>| if p.0[3] == 0 { [0; 4] } else { p.0 };
    let want: Vec<[u8; 4]> = rgba.pixels().map(invisible_black).collect();
    assert_eq!(back.pixels().map(|p| p.0).collect::<Vec<_>>(), want);
    assert_eq!(report["opacity"], true);
    assert_eq!(report["mse"], 0.0);
    assert_eq!(report["palette"][1], "#0a0a0a1f");
    // k = 256 counts the transparent entry among the 256.
    let many = image::RgbaImage::from_fn(40, 10, |x, y| {
        image::Rgba([
            (x * 6) as u8,
            (y * 25) as u8,
            9,
            if x == 0 { 0 } else { 255 },
        ])
    });
    many.save(dir.path().join("many.png")).unwrap();
    let assert = pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "many.png", "-k", "256", "-o", "many-out.png"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("the transparent entry counts among the 256 (as in pngquant): 255 colours"),
        "{stderr}"
    );
    // Fewer: the shadow still fades, in fewer steps.
    let (_, _, alphas, _) = quantize("3", &[]);
    assert_eq!(alphas[0], 0);
    assert!(alphas.windows(2).all(|w| w[0] <= w[1]), "{alphas:?}");
    assert!(alphas.iter().any(|&a| a > 0 && a < 255), "{alphas:?}");
    // A GIF has one transparent index, and says what that does.
    let assert = pixmeans()
        .arg("quantize")
        .arg(&input)
        .args(["-k", "8", "-f", "-o"])
        .arg(dir.path().join("out.gif"))
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains(
            "out.gif has no partial transparency (GIF), so the partly transparent palette entries of"
        ),
        "{stderr}"
    );
    // Dithered, too.
    let (report, stderr, alphas, _) = quantize("3", &["--dither"]);
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_eq!(report["opacity"], true);
    assert_eq!(alphas[0], 0);
    assert!(alphas.iter().any(|&a| a > 0 && a < 255), "{alphas:?}");

    // Fully transparent and opaque pixels alone: no warning.
    let rgba = image::RgbaImage::from_fn(9, 4, |x, _| {
        image::Rgba([10, 10, 10, if x < 4 { 0 } else { 255 }])
    });
    rgba.save(&input).unwrap();
    let assert = pixmeans()
        .arg("quantize")
        .arg(&input)
        .args(["-k", "2", "-f", "-o"])
        .arg(&out)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn verbose_prints_the_convergence_and_max_pixels_fits_a_sample() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("photo.png");
    save_picture(&input);
    let out = dir.path().join("out.png");
    let assert = pixmeans()
        .arg("quantize")
        .arg(&input)
        .args([
            "-k",
            "6",
            "--verbose",
            "--max-pixels",
            "500",
            "--json",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("iteration   1: inertia"), "{stderr}");
    assert!(
        stderr.contains("fitted on a ") && stderr.contains(" copy (--max-pixels)"),
        "{stderr}"
    );
    let report = &json_lines(&assert.get_output().stdout)[0];
    assert!(report["fitted_pixels"].as_u64().unwrap() <= 500);
    assert!(report["fitted_on"].is_array());
    assert!(!report["history"].as_array().unwrap().is_empty());
    assert_eq!(decode_indexed(&out).2.len(), 96 * 64 * 3);
}

#[test]
fn without_an_output_it_names_the_file_after_the_input_and_k() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("photo.png"));
    pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "photo.png", "-k", "5"])
        .assert()
        .success();
    assert!(dir.path().join("photo-k5.png").is_file());
}

#[test]
fn the_json_report_means_what_it_says() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("photo.png"));
    let assert = pixmeans()
        .current_dir(dir.path())
        .args([
            "quantize",
            "photo.png",
            "-k",
            "4",
            "--json",
            "-o",
            "out.png",
        ])
        .assert()
        .success();
    let mut report = json_lines(&assert.get_output().stdout).remove(0);
    report["seconds"] = serde_json::json!("[seconds]");
    report["sizes"]["output_bytes"] = serde_json::json!("[bytes]");
    report["sizes"]["output_ratio"] = serde_json::json!("[ratio]");
    report["sizes"]["input_bytes"] = serde_json::json!("[bytes]");
    insta::assert_json_snapshot!(report);
}

#[test]
fn help_text() {
    let out = pixmeans()
        .args(["quantize", "--help"])
        .env("COLUMNS", "100")
        .assert()
        .success();
    insta::assert_snapshot!(String::from_utf8_lossy(&out.get_output().stdout));
}

#[test]
fn a_trailing_slash_names_a_folder_to_create() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("photo.png"));
    pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "photo.png", "-k", "3", "-o", "new/"])
        .assert()
        .success();
    assert!(dir.path().join("new/photo-k3.png").is_file());
}

#[test]
fn a_reader_that_goes_away_leaves_the_batch_to_finish_quietly() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.png", "b.png", "c.png"] {
        save_picture(&dir.path().join(name));
    }
    for (command, out, written) in [
        ("quantize", "out", "c-k16.png"),
        ("segment", "seg", "c/segments.json"),
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pixmeans"))
            .current_dir(dir.path())
            .args([
                command, "a.png", "b.png", "c.png", "-o", out, "--json", "-j", "1",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let done = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(0), "{command}: {stderr}");
        assert!(!stderr.contains("error"), "{stderr}");
        // The files were what was asked for: all of them are written.
        assert!(dir.path().join(out).join(written).is_file(), "{command}");
    }
}

#[test]
fn k_auto_with_a_psnr_target_meets_it_and_k_minus_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("photo.png"));
    let out = pixmeans()
        .current_dir(dir.path())
        .args([
            "quantize",
            "photo.png",
            "-k",
            "auto",
            "--target-psnr",
            "33",
            "--json",
            "-o",
            "out.png",
        ])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let report = json_lines(&out.get_output().stdout).remove(0);
    let k = report["k"].as_u64().unwrap();
    assert_eq!(report["k_choice"]["k"].as_u64(), Some(k));
    assert_eq!(report["k_choice"]["method"], "psnr");
    assert!(report["psnr"].as_f64().unwrap() >= 33.0);
    let trials = report["k_choice"]["trials"].as_array().unwrap();
    let below = trials
        .iter()
        .find(|t| t["k"].as_u64() == Some(k - 1))
        .unwrap();
    assert!(below["psnr"].as_f64().unwrap() < 33.0);
    assert!(
        stderr.contains(&format!(
            "k = auto -> {k}: the smallest k with PSNR >= 33 dB"
        )),
        "{stderr}"
    );
    assert_eq!(
        decode_indexed(&dir.path().join("out.png")).1.len() as u64,
        k
    );
}

#[test]
fn k_auto_on_one_colour_or_none_says_why_k_is_1() {
    let dir = tempfile::tempdir().unwrap();
    image::RgbaImage::from_pixel(8, 4, image::Rgba([0, 0, 0, 0]))
        .save(dir.path().join("clear.png"))
        .unwrap();
    image::RgbImage::from_pixel(8, 4, image::Rgb([30, 90, 200]))
        .save(dir.path().join("flat.png"))
        .unwrap();
    for (name, colours) in [("clear.png", 0), ("flat.png", 1)] {
        let out = pixmeans()
            .current_dir(dir.path())
            .args([
                "quantize", name, "-k", "auto", "-o", "out.png", "--force", "--json",
            ])
            .assert()
            .success();
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains("k = auto -> 1: the image has no more than 1 colour to fit"),
            "{stderr}"
        );
        let report = json_lines(&out.get_output().stdout).remove(0);
        assert_eq!(report["colors"].as_u64(), Some(colours));
    }
}

#[test]
fn k_auto_without_a_target_takes_the_knee() {
    let dir = tempfile::tempdir().unwrap();
    // Five flat bands of well-separated colours, a little noise.
    let colors = [
        [40, 40, 40],
        [210, 40, 40],
        [40, 210, 40],
        [40, 40, 210],
        [210, 210, 40],
    ];
    let img = image::RgbImage::from_fn(100, 20, |x, y| {
        let c: [u8; 3] = colors[(x / 20) as usize];
        image::Rgb(c.map(|v| v + ((x * 7 + y * 3) % 9) as u8))
    });
    img.save(dir.path().join("bands.png")).unwrap();
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "bands.png", "-k", "auto", "--json"])
        .assert()
        .success();
    let report = json_lines(&out.get_output().stdout).remove(0);
    assert_eq!(report["k"], 5);
    assert_eq!(report["k_choice"]["method"], "knee");
    // Named after the k chosen, as the report says.
    assert!(dir.path().join("bands-k5.png").is_file());
    assert_eq!(report["output"], "bands-k5.png");
    // Again: the name is taken, and only --force replaces it.
    let args = ["quantize", "bands.png", "-k", "auto"];
    let err = crate::fails_with(dir.path(), &args, 2);
    assert!(
        err.contains("bands-k5.png already exists") && err.contains("--force"),
        "{err}"
    );
    pixmeans()
        .current_dir(dir.path())
        .args(args)
        .arg("--force")
        .assert()
        .success();
}

#[test]
fn step_plain_runs_textbook_lloyd_and_overrelaxed_is_the_default() {
    let dir = tempfile::tempdir().unwrap();
    // A smooth field of colours with no clusters in it, where Lloyd creeps.
    image::RgbImage::from_fn(128, 96, |x, y| {
        let wave = ((x * 7 + y * 13) % 23) as u8;
        image::Rgb([(x * 2) as u8, (y * 2 + x / 2) as u8, 40 + wave * 5])
    })
    .save(dir.path().join("photo.png"))
    .unwrap();
    let run = [
        "quantize",
        "photo.png",
        "-k",
        "12",
        "--tol",
        "0",
        "--verbose",
    ];
    let fit = |extra: &[&str]| crate::run_json(dir.path(), &[&run[..], extra].concat());
    let over = fit(&["-o", "over.png"]);
    let plain = fit(&["--step", "plain", "-o", "plain.png"]);
    assert_eq!(over["step"], "overrelaxed");
    assert_eq!(plain["step"], "plain");
    for report in [&over, &plain] {
        let history = report["history"].as_array().unwrap();
        assert_eq!(history.len() as u64, report["iterations"].as_u64().unwrap());
        assert_eq!(report["converged"], true);
        // At tol 0 a converged run ends at a fixed point: a plain step
        // would not move any centroid.
        let last = history.last().unwrap();
        assert_eq!(last["center_shift"].as_f64(), Some(0.0), "{last:?}");
        // The inertia falls but for steps turned down, and plain steps are
        // never turned down.
        let kept: Vec<f64> = history
            .iter()
            .filter(|h| h["turned_down"] == false)
            .map(|h| h["inertia"].as_f64().unwrap())
            .collect();
        assert!(
            kept.windows(2).all(|w| w[1] <= w[0] * (1.0 + 1e-9)),
            "{history:?}"
        );
    }
    let plain_history = plain["history"].as_array().unwrap();
    assert!(plain_history.iter().all(|h| h["turned_down"] == false));
    // The option reaches the fit: run to a fixed point (tol 0), the
    // over-relaxed steps get there in fewer passes, one of them turned
    // down, and the text trace says so.
    let (over_iterations, plain_iterations) = (
        over["iterations"].as_u64().unwrap(),
        plain["iterations"].as_u64().unwrap(),
    );
    assert!(
        over_iterations < plain_iterations,
        "{over_iterations} vs {plain_iterations}"
    );
    let turned_down = over["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["turned_down"] == true)
        .count();
    assert!(turned_down > 0);
    let out = crate::pixmeans()
        .current_dir(dir.path())
        .args([&run[..], &["-o", "trace.png"]].concat())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.matches("(over-relaxed step turned down)").count(),
        turned_down,
        "{text}"
    );
    let stderr = crate::fails_with(dir.path(), &["quantize", "photo.png", "--step", "long"], 2);
    assert!(
        stderr.contains("overrelaxed") && stderr.contains("plain"),
        "{stderr}"
    );
}

#[test]
fn dither_smooths_a_ramp_and_reports_the_figures_of_the_dithered_file() {
    let dir = tempfile::tempdir().unwrap();
    // A grey ramp: at k = 4 without dithering it comes out in four bands.
    let ramp = image::RgbImage::from_fn(256, 48, |x, _| image::Rgb([x as u8; 3]));
    ramp.save(dir.path().join("ramp.png")).unwrap();
    let plain = crate::run_json(
        dir.path(),
        &["quantize", "ramp.png", "-k", "4", "-o", "plain.png"],
    );
    let report = crate::run_json(
        dir.path(),
        &[
            "quantize", "--dither", "ramp.png", "-k", "4", "-o", "dith.png",
        ],
    );
    assert_eq!(plain["dither"], serde_json::Value::Null);
    // `--dither` alone is the library's default level.
    assert_eq!(
        report["dither"],
        f64::from(pixmeans_core::Dither::DEFAULT_LEVEL)
    );
    // The same fit, a different mapping.
    assert_eq!(report["inertia"], plain["inertia"]);
    assert_eq!(report["palette"], plain["palette"]);
    let (_, palette, rgb) = decode_indexed(&dir.path().join("dith.png"));
    assert!(
        rgb.chunks_exact(3)
            .all(|p| palette.contains(&[p[0], p[1], p[2]]))
    );
    let (_, _, banded) = decode_indexed(&dir.path().join("plain.png"));
    // Columns 8 wide: the dithered file keeps each one's mean grey between
    // the darkest and lightest palette greys; the banded one does not.
    let greys: Vec<u8> = palette.iter().map(|c| c[0]).collect();
    let (lo, hi) = (greys.iter().min().unwrap(), greys.iter().max().unwrap());
    let worst = |rgb: &[u8]| {
        (0..32)
            .filter(|c| c * 8 + 4 > u32::from(*lo) + 4 && c * 8 + 4 < u32::from(*hi) - 4)
            .map(|c| {
                let sum: f64 = (0..48 * 256)
                    .filter(|i| i % 256 / 8 == c)
                    .map(|i| f64::from(rgb[i as usize * 3]))
                    .sum();
                (sum / (48.0 * 8.0) - (f64::from(c * 8) + 3.5)).abs()
            })
            .fold(0.0, f64::max)
    };
    assert!(worst(&banded) > 10.0, "{}", worst(&banded));
    assert!(worst(&rgb) < 3.0, "{}", worst(&rgb));
    // Its MSE is that of the file written, not of the fit.
    let mse = mse_between(&ramp.into_raw(), &rgb);
    assert!((report["mse"].as_f64().unwrap() - mse).abs() < 1e-9);
    assert!(report["mse"].as_f64().unwrap() > plain["mse"].as_f64().unwrap());
    // A level passes on less of the error.
    let half = crate::run_json(
        dir.path(),
        &[
            "quantize",
            "ramp.png",
            "-k",
            "4",
            "--dither=0.5",
            "-o",
            "half.png",
        ],
    );
    assert_eq!(half["dither"], 0.5);
    let mse_of = |r: &serde_json::Value| r["mse"].as_f64().unwrap();
    assert!(mse_of(&plain) < mse_of(&half) && mse_of(&half) < mse_of(&report));
}

/// The error left between two RGB images `w` pixels wide once each is
/// averaged over 5 x 5 pixels in linear light (a mean square of 255 times
/// the linear values): what the eye sees of a dithered image from a little
/// way off.
fn box_blurred_error(a: &[u8], b: &[u8], w: usize) -> f64 {
    let linear = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let (a, b): (Vec<f64>, Vec<f64>) = (
        a.iter().map(|&v| linear(v)).collect(),
        b.iter().map(|&v| linear(v)).collect(),
    );
    let h = a.len() / 3 / w;
    let mut sum = 0.0;
    for y in 2..h - 2 {
        for x in 2..w - 2 {
            for c in 0..3 {
                let mut d = 0.0;
                for yy in y - 2..=y + 2 {
                    for xx in x - 2..=x + 2 {
                        let i = (yy * w + xx) * 3 + c;
                        d += a[i] - b[i];
                    }
                }
                sum += (d / 25.0 * 255.0).powi(2);
            }
        }
    }
    sum / ((w - 4) * (h - 4) * 3) as f64
}

#[test]
fn default_dithering_errs_less_than_passing_on_all_of_the_error() {
    // The bundled photo: passing on all of each error piles it up into
    // stray dots, which the default level's 7/8 damps.
    let dir = tempfile::tempdir().unwrap();
    let photo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/coffee.png");
    let original = image::open(&photo).unwrap().to_rgb8();
    let w = original.width() as usize;
    for k in ["16", "64"] {
        let error = |flag: &str| {
            let out = dir.path().join("out.png");
            let report = crate::run_json(
                dir.path(),
                &[
                    "quantize",
                    photo.to_str().unwrap(),
                    "-k",
                    k,
                    flag,
                    "-o",
                    "out.png",
                    "--force",
                ],
            );
            let (_, _, rgb) = decode_indexed(&out);
            (
                report["mse"].as_f64().unwrap(),
                box_blurred_error(original.as_raw(), &rgb, w),
            )
        };
        let (default, full) = (error("--dither"), error("--dither=1"));
        // Measured: MSE 114 against 219 at k = 16 and 25 against 42 at
        // k = 64; blurred, 18.8 against 25.3 and 1.86 against 2.37. Any
        // lower level lowers the MSE; the blurred error is the one a lower
        // level can also make worse (too little dithering leaves bands).
        assert!(
            default.0 < 0.8 * full.0,
            "k = {k}: {default:?} against {full:?}"
        );
        assert!(default.1 < full.1, "k = {k}: {default:?} against {full:?}");
    }
}

#[test]
fn skip_if_larger_leaves_unwritten_what_would_not_be_smaller() {
    let dir = tempfile::tempdir().unwrap();
    // One colour, 2 x 2: an RGB PNG of about 70 bytes, which an indexed
    // one cannot beat, with its palette chunk.
    let flat = image::RgbImage::from_pixel(2, 2, image::Rgb([200, 0, 0]));
    flat.save(dir.path().join("flat.png")).unwrap();
    save_picture(&dir.path().join("photo.png"));
    let assert = pixmeans()
        .current_dir(dir.path())
        .args([
            "quantize",
            "flat.png",
            "photo.png",
            "-k",
            "4",
            "--skip-if-larger",
        ])
        .args(["--json", "-o", "out/"])
        .assert()
        .success();
    let reports = json_lines(&assert.get_output().stdout);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert_eq!(reports[0]["written"], false);
    assert_eq!(
        reports[0]["skipped"],
        "not smaller than the input file (--skip-if-larger)"
    );
    assert!(
        reports[0]["sizes"]["output_bytes"].as_u64() >= reports[0]["sizes"]["input_bytes"].as_u64()
    );
    assert!(
        stderr.contains("flat.png -> out/flat-k4.png (")
            && stderr
                .contains(" s), not written: not smaller than the input file (--skip-if-larger)"),
        "{stderr}"
    );
    assert!(stderr.contains("file would be "), "{stderr}");
    assert_eq!(reports[1]["written"], true);
    assert_eq!(reports[1]["skipped"], serde_json::Value::Null);
    assert!(!dir.path().join("out/flat-k4.png").exists());
    assert!(dir.path().join("out/photo-k4.png").is_file());

    // Alone into a new folder: the folder goes again.
    pixmeans()
        .current_dir(dir.path())
        .args(["quantize", "flat.png", "--skip-if-larger", "-o", "new/"])
        .assert()
        .success();
    assert!(!dir.path().join("new").exists());
}
