//! `pixmeans segment` end to end: every figure of segments.json checked
//! against the images written, masks that tile the picture, bad input.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::{json_lines, pixmeans, save_picture};

/// Three shapes on a background, flat colours: 120 x 80.
fn save_shapes(path: &Path) {
    image::RgbImage::from_fn(120, 80, |x, y| {
        let (dx, dy) = (f64::from(x) - 85.0, f64::from(y) - 50.0);
        image::Rgb(if (10..40).contains(&x) && (10..30).contains(&y) {
            [210, 40, 40]
        } else if dx * dx + dy * dy <= 225.0 {
            [40, 170, 60]
        } else if (50..70).contains(&x) && (5..20).contains(&y) {
            [40, 60, 200]
        } else {
            [200, 200, 190]
        })
    })
    .save(path)
    .unwrap();
}

/// Decodes a PNG with the png crate: (colour type, bit depth, width, height, bytes).
fn decode(path: &Path) -> (png::ColorType, png::BitDepth, u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (
        info.color_type,
        info.bit_depth,
        info.width,
        info.height,
        buf,
    )
}

/// The labels of labels.png (8 or 16 bits).
fn labels_of(path: &Path) -> (u8, Vec<u32>) {
    let (color, depth, _, _, bytes) = decode(path);
    assert_eq!(color, png::ColorType::Grayscale);
    match depth {
        png::BitDepth::Eight => (8, bytes.iter().map(|&b| u32::from(b)).collect()),
        png::BitDepth::Sixteen => (
            16,
            bytes
                .chunks_exact(2)
                .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
                .collect(),
        ),
        d => panic!("unexpected depth {d:?}"),
    }
}

pub fn run_segment(dir: &Path, args: &[&str]) -> Value {
    crate::run_json(dir, &[&["segment"], args].concat())
}

#[test]
fn every_figure_matches_the_images_written() {
    let dir = tempfile::tempdir().unwrap();
    save_shapes(&dir.path().join("shapes.png"));
    let report = run_segment(dir.path(), &["shapes.png", "-k", "4", "-o", "out"]);
    let out = dir.path().join("out");
    let source = image::open(dir.path().join("shapes.png"))
        .unwrap()
        .to_rgb8();

    // segments.json is the --json report without the timings.
    let mut file: Value =
        serde_json::from_slice(&fs::read(out.join("segments.json")).unwrap()).unwrap();
    let mut line = report.clone();
    line.as_object_mut().unwrap().remove("seconds");
    file.as_object_mut().unwrap().remove("seconds");
    assert_eq!(file, line);

    // The files listed are the files there.
    let listed: BTreeSet<String> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    let present: BTreeSet<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(listed, present);
    assert_eq!(present.len(), 2 + 4 + 4 + 3);

    let (bits, labels) = labels_of(&out.join("labels.png"));
    assert_eq!((bits, report["label_bits"].as_u64().unwrap()), (8, 8));
    let npy = fs::read(out.join("labels.npy")).unwrap();
    let header = usize::from(u16::from_le_bytes([npy[8], npy[9]]));
    assert!(
        std::str::from_utf8(&npy[10..10 + header])
            .unwrap()
            .contains("'shape': (80, 120)")
    );
    assert_eq!(
        npy[10 + header..]
            .iter()
            .map(|&b| u32::from(b))
            .collect::<Vec<_>>(),
        labels
    );

    let clusters = report["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 4);
    let mut covered = vec![0u8; labels.len()];
    let mut previous = u64::MAX;
    for (i, c) in clusters.iter().enumerate() {
        assert_eq!(c["index"].as_u64().unwrap(), i as u64);
        let pixels = c["pixels"].as_u64().unwrap();
        assert!(pixels <= previous, "clusters out of order");
        previous = pixels;
        let mine: Vec<usize> = (0..labels.len())
            .filter(|&p| labels[p] == i as u32)
            .collect();
        assert_eq!(pixels, mine.len() as u64);
        assert!((c["share"].as_f64().unwrap() - pixels as f64 / 9600.0).abs() < 1e-12);
        let xs = mine.iter().map(|&p| (p % 120) as u64);
        let ys = mine.iter().map(|&p| (p / 120) as u64);
        let bbox = [xs.clone().min(), ys.clone().min(), xs.max(), ys.max()].map(Option::unwrap);
        assert_eq!(c["bbox"], serde_json::json!(bbox));
        // Flat shapes: each cluster is one region, its own colour exactly.
        assert_eq!(
            (c["regions"].as_u64(), c["largest_region"].as_u64()),
            (Some(1), Some(pixels))
        );
        let color = source.as_raw()[mine[0] * 3..][..3].to_vec();
        let hex = format!("#{:02x}{:02x}{:02x}", color[0], color[1], color[2]);
        assert_eq!(c["hex"], hex.as_str());

        // The mask: white exactly on the cluster.
        let mask_name = c["mask"].as_str().unwrap();
        assert_eq!(mask_name, format!("mask-{i}-{}.png", &hex[1..]));
        let mask = image::open(out.join(mask_name)).unwrap().to_luma8();
        for (p, &v) in mask.as_raw().iter().enumerate() {
            assert_eq!(v == 255, labels[p] == i as u32, "mask {i} pixel {p}");
            assert!(v == 0 || v == 255);
            covered[p] += u8::from(v == 255);
        }
        // The cutout: the photo's pixels there, transparent elsewhere.
        let cutout = image::open(out.join(c["cutout"].as_str().unwrap()))
            .unwrap()
            .to_rgba8();
        for (p, px) in cutout.pixels().enumerate() {
            if labels[p] == i as u32 {
                assert_eq!(px.0[..3], source.as_raw()[p * 3..][..3]);
                assert_eq!(px.0[3], 255);
            } else {
                assert_eq!(px.0[3], 0);
            }
        }
    }
    // The masks tile the picture: every pixel in exactly one.
    assert!(covered.iter().all(|&c| c == 1));

    check_mean_and_overlay(&out, source.as_raw(), &labels);
}

/// Flat regions: the mean image is the picture itself, and the overlay is
/// too, but for the boundaries, drawn black or white.
fn check_mean_and_overlay(out: &Path, source: &[u8], labels: &[u32]) {
    let mean = image::open(out.join("mean.png")).unwrap().to_rgb8();
    assert_eq!(mean.as_raw(), source);
    let overlay = image::open(out.join("overlay.png")).unwrap().to_rgb8();
    let edge = |p: usize| {
        (p % 120 < 119 && labels[p + 1] != labels[p])
            || (p / 120 < 79 && labels[p + 120] != labels[p])
    };
    for (p, px) in overlay.pixels().enumerate() {
        if edge(p) {
            assert!(px.0 == [0; 3] || px.0 == [255; 3]);
        } else {
            assert_eq!(px.0[..], source[p * 3..][..3]);
        }
    }
}

#[test]
fn transparent_pixels_stay_transparent_in_the_overlay() {
    let dir = tempfile::tempdir().unwrap();
    // The top half transparent, the bottom two flat colours side by side.
    image::RgbaImage::from_fn(40, 20, |x, y| {
        image::Rgba(match (y < 10, x < 20) {
            (true, _) => [0; 4],
            (false, true) => [200, 30, 30, 255],
            (false, false) => [30, 30, 200, 255],
        })
    })
    .save(dir.path().join("half.png"))
    .unwrap();
    run_segment(
        dir.path(),
        &["half.png", "-k", "2", "--only", "overlay,json", "-o", "out"],
    );
    let overlay = image::open(dir.path().join("out/overlay.png"))
        .unwrap()
        .to_rgba8();
    for (x, y, px) in overlay.enumerate_pixels() {
        if y < 10 {
            assert_eq!(px.0[3], 0, "({x}, {y}) is not transparent");
        } else if x == 19 {
            // The one boundary, between the two colours.
            assert!(
                px.0 == [0, 0, 0, 255] || px.0 == [255, 255, 255, 255],
                "({x}, {y})"
            );
        } else {
            assert_ne!(px.0[..3], [0; 3], "({x}, {y}) is on no boundary");
            assert_ne!(px.0[..3], [255; 3], "({x}, {y}) is on no boundary");
        }
    }
}

#[test]
fn only_and_skip_choose_the_files() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    run_segment(
        dir.path(),
        &["p.png", "-k", "3", "--only", "labels,json", "-o", "a"],
    );
    let mut names: Vec<String> = fs::read_dir(dir.path().join("a"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["labels.png", "segments.json"]);
    let report = run_segment(
        dir.path(),
        &["p.png", "-k", "3", "--skip", "cutouts,npy", "-o", "b"],
    );
    assert_eq!(report["files"].as_array().unwrap().len(), 1 + 3 + 3);
    assert!(report["clusters"][0]["cutout"].is_null());
}

#[test]
fn spatial_output_is_the_same_bytes_on_one_or_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for (j, out) in [("1", "one"), ("2", "two")] {
        let args = [
            "p.png",
            "-k",
            "5",
            "--spatial",
            "1",
            "--min-region",
            "30",
            "-j",
            j,
            "-o",
            out,
        ];
        run_segment(dir.path(), &args);
    }
    for entry in fs::read_dir(dir.path().join("one")).unwrap() {
        let name = entry.unwrap().file_name();
        let a = fs::read(dir.path().join("one").join(&name)).unwrap();
        let mut b = fs::read(dir.path().join("two").join(&name)).unwrap();
        if name == "segments.json" {
            // The same but for the folder's name.
            let other = String::from_utf8(b).unwrap().replace("\"two\"", "\"one\"");
            b = other.into_bytes();
        }
        assert!(a == b, "{name:?} differs");
    }
}

#[test]
fn more_than_256_clusters_take_16_bit_labels() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("p.png"));
    for spatial in ["0", "2"] {
        let out = format!("out-{spatial}");
        let only = "labels,npy,json";
        let args = [
            "p.png",
            "-k",
            "300",
            "--spatial",
            spatial,
            "--only",
            only,
            "-o",
            &out,
        ];
        let report = run_segment(dir.path(), &args);
        let n = report["clusters"].as_array().unwrap().len();
        assert!(n > 256, "{n} clusters");
        assert_eq!(report["label_bits"], 16);
        let (bits, labels) = labels_of(&dir.path().join(&out).join("labels.png"));
        assert_eq!(bits, 16);
        assert_eq!(labels.iter().max().copied(), Some(n as u32 - 1));
        let npy = fs::read(dir.path().join(&out).join("labels.npy")).unwrap();
        let header = usize::from(u16::from_le_bytes([npy[8], npy[9]]));
        let from_npy: Vec<u32> = npy[10 + header..]
            .chunks_exact(2)
            .map(|c| u32::from(u16::from_le_bytes([c[0], c[1]])))
            .collect();
        assert_eq!(from_npy, labels);
    }
}

#[test]
fn a_batch_writes_one_folder_per_input() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("a.png"));
    save_picture(&dir.path().join("b.png"));
    let out = pixmeans()
        .current_dir(dir.path())
        .args([
            "segment", "a.png", "b.png", "-k", "3", "--json", "-o", "parts",
        ])
        .assert()
        .success();
    assert_eq!(json_lines(&out.get_output().stdout).len(), 2);
    assert!(dir.path().join("parts/a/labels.png").is_file());
    assert!(dir.path().join("parts/b/segments.json").is_file());

    // Run again with a new input: --skip-existing does only that one.
    save_picture(&dir.path().join("c.png"));
    let before = std::fs::read(dir.path().join("parts/a/labels.png")).unwrap();
    let out = pixmeans()
        .current_dir(dir.path())
        .args(["segment", "a.png", "b.png", "c.png", "-k", "2", "--json"])
        .args(["-o", "parts", "--skip-existing"])
        .assert()
        .success();
    let lines = json_lines(&out.get_output().stdout);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert_eq!(lines[0]["output"], "parts/a");
    assert_eq!(
        lines[0]["skipped"],
        "the output is there already (--skip-existing)"
    );
    assert_eq!(lines[2]["k"], 2);
    assert!(
        err.contains("b.png -> parts/b, not written: the output is there already"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("parts/a/labels.png")).unwrap(),
        before
    );
    assert!(dir.path().join("parts/c/labels.png").is_file());
}

#[test]
fn k_auto_chooses_k_on_colour_and_says_how() {
    let dir = tempfile::tempdir().unwrap();
    save_shapes(&dir.path().join("shapes.png"));
    for spatial in ["0", "0.1"] {
        let out = format!("out-{spatial}");
        let report = run_segment(
            dir.path(),
            &[
                "shapes.png",
                "-k",
                "auto",
                "--target-psnr",
                "40",
                "--spatial",
                spatial,
                "--only",
                "json",
                "-o",
                &out,
            ],
        );
        // Four flat colours: exact (infinite PSNR) at k = 4, not before.
        assert_eq!(report["k"], 4);
        assert_eq!(report["options"]["k"], "auto");
        assert_eq!(report["k_choice"]["method"], "psnr");
        assert_eq!(report["clusters"].as_array().unwrap().len(), 4);
    }
}

#[test]
fn fewer_clusters_than_k_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    save_shapes(&dir.path().join("shapes.png"));
    let says = |args: &[&str]| {
        let out = pixmeans()
            .current_dir(dir.path())
            .args(
                [
                    &["segment", "shapes.png", "--only", "json", "--force"],
                    args,
                ]
                .concat(),
            )
            .assert()
            .success();
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        err.lines().next().unwrap_or_default().to_owned()
    };
    // Four flat colours.
    assert!(
        says(&["-k", "10", "-o", "a"])
            .contains(": 4 clusters (k = 10: only 4 distinct colours), 4 regions,"),
        "{}",
        says(&["-k", "10", "-o", "a"])
    );
    // A minimum as large as the image leaves one region of one cluster.
    let line = says(&["-k", "4", "--min-region", "9600", "-o", "b"]);
    assert!(
        line.contains(
            ": 1 cluster (k = 4: merging emptied 3), 1 region (4 before merging 3 small ones),"
        ),
        "{line}"
    );
    let report: Value =
        serde_json::from_slice(&fs::read(dir.path().join("b/segments.json")).unwrap()).unwrap();
    assert_eq!(report["fit"]["clusters"], 4);
    assert_eq!(report["regions_before_merging"], 4);
    assert_eq!(report["merged_regions"], 3);
}

#[test]
fn the_segments_json_means_what_it_says() {
    let dir = tempfile::tempdir().unwrap();
    save_shapes(&dir.path().join("shapes.png"));
    run_segment(
        dir.path(),
        &["shapes.png", "-k", "4", "--min-region", "10", "-o", "out"],
    );
    let report: Value =
        serde_json::from_slice(&fs::read(dir.path().join("out/segments.json")).unwrap()).unwrap();
    insta::assert_json_snapshot!(report);
}

#[test]
fn help_text() {
    let out = pixmeans()
        .args(["segment", "--help"])
        .env("COLUMNS", "100")
        .assert()
        .success();
    insta::assert_snapshot!(String::from_utf8_lossy(&out.get_output().stdout));
}
