//! Photos whose colour profile puts them in another RGB space than sRGB.

use std::path::Path;

use image::ImageEncoder;
use image::codecs::png::PngEncoder;
use moxcms::{ColorProfile, ProfileText};

use crate::{decode_indexed, pixmeans, run_json};

/// Saves a 16 x 8 PNG, half muted red and half grey, carrying `icc`.
fn save_two_colours(path: &Path, icc: Vec<u8>) {
    let rgb: Vec<u8> = (0..16 * 8)
        .flat_map(|p| {
            if p % 16 < 8 {
                [180, 90, 90]
            } else {
                [128, 128, 128]
            }
        })
        .collect();
    let mut bytes = Vec::new();
    let mut encoder = PngEncoder::new(&mut bytes);
    encoder.set_icc_profile(icc).unwrap();
    encoder
        .write_image(&rgb, 16, 8, image::ExtendedColorType::Rgb8)
        .unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Runs `pixmeans quantize NAME -k 2 -o out.png --json ARGS...` in `dir`:
/// standard error and the report.
fn quantize(dir: &Path, name: &str, args: &[&str]) -> (String, serde_json::Value) {
    let assert = pixmeans()
        .current_dir(dir)
        .args(["quantize", name, "-k", "2", "-o", "out.png", "--json", "-f"])
        .args(args)
        .assert()
        .success();
    let out = assert.get_output();
    let report = serde_json::from_slice(&out.stdout).unwrap();
    (String::from_utf8_lossy(&out.stderr).into_owned(), report)
}

fn display_p3() -> Vec<u8> {
    let mut profile = ColorProfile::new_display_p3();
    profile.description = Some(ProfileText::PlainString("Display P3".to_owned()));
    profile.encode().unwrap()
}

#[test]
fn a_display_p3_photo_is_converted_to_srgb_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    save_two_colours(&dir.path().join("p3.png"), display_p3());
    let (stderr, report) = quantize(dir.path(), "p3.png", &[]);
    assert!(
        stderr.contains(
            "note: p3.png's colour profile is Display P3; its colours were converted to sRGB"
        ),
        "{stderr}"
    );
    assert_eq!(report["input_profile"], "Display P3");
    // --quiet leaves the note out, not the conversion.
    let (stderr, quiet) = quantize(dir.path(), "p3.png", &["-q"]);
    assert_eq!(stderr, "");
    assert_eq!(quiet["palette"], report["palette"]);
    // The output is exact for its two colours, which are sRGB's: the muted
    // P3 red is a more saturated sRGB red; grey stays grey.
    assert_eq!(report["mse"], 0.0);
    let (_, palette, _) = decode_indexed(&dir.path().join("out.png"));
    let red = palette.iter().find(|c| c[0] != c[1]).unwrap();
    assert!(red[0] > 180 && red[1] < 90 && red[2] < 90, "{palette:?}");
    assert!(palette.contains(&[128, 128, 128]), "{palette:?}");

    // The palette command lists the same sRGB colours.
    let json = run_json(dir.path(), &["palette", "p3.png", "-k", "2"]);
    let hex = format!("#{:02x}{:02x}{:02x}", red[0], red[1], red[2]);
    let hexes: Vec<&str> = json["colors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["hex"].as_str().unwrap())
        .collect();
    assert!(hexes.contains(&hex.as_str()), "{hexes:?} lacks {hex}");
}

#[test]
fn an_srgb_profile_changes_nothing_and_is_not_mentioned() {
    let dir = tempfile::tempdir().unwrap();
    let mut srgb = ColorProfile::new_srgb();
    srgb.description = Some(ProfileText::PlainString("sRGB IEC61966-2.1".to_owned()));
    save_two_colours(&dir.path().join("s.png"), srgb.encode().unwrap());
    let (stderr, report) = quantize(dir.path(), "s.png", &[]);
    assert!(!stderr.contains("profile"), "{stderr}");
    assert!(report["input_profile"].is_null());
    let (_, mut palette, _) = decode_indexed(&dir.path().join("out.png"));
    palette.sort_unstable();
    assert_eq!(palette, [[128, 128, 128], [180, 90, 90]]);
}

#[test]
fn a_profile_that_cannot_be_read_is_named_in_a_warning_even_under_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let mut broken = display_p3();
    broken.truncate(60);
    save_two_colours(&dir.path().join("b.png"), broken);
    let (stderr, _) = quantize(dir.path(), "b.png", &["-q"]);
    assert!(
        stderr.contains("warning: b.png: its colour profile cannot be read (")
            && stderr.contains("its colours are taken as sRGB"),
        "{stderr}"
    );
    let (_, mut palette, _) = decode_indexed(&dir.path().join("out.png"));
    palette.sort_unstable();
    assert_eq!(palette, [[128, 128, 128], [180, 90, 90]]);
}
