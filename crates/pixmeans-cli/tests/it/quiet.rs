//! `--quiet`: nothing on standard error but warnings and errors.

use crate::{fails_with, pixmeans, save_picture};

fn stderr_of(dir: &std::path::Path, args: &[&str], code: i32) -> (String, Vec<u8>) {
    let assert = pixmeans().current_dir(dir).args(args).assert().code(code);
    let out = assert.get_output();
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.stdout.clone(),
    )
}

#[test]
fn quiet_leaves_out_summaries_but_not_data_warnings_or_errors() {
    let dir = tempfile::tempdir().unwrap();
    save_picture(&dir.path().join("a.png"));
    let (stderr, _) = stderr_of(dir.path(), &["quantize", "a.png", "-k", "4"], 0);
    assert!(stderr.contains("a.png -> a-k4.png"), "{stderr}");
    let (stderr, _) = stderr_of(dir.path(), &["quantize", "a.png", "-k", "4", "-q", "-f"], 0);
    assert_eq!(stderr, "");
    assert!(dir.path().join("a-k4.png").is_file());

    // The table is data: still on standard output.
    let (stderr, stdout) = stderr_of(dir.path(), &["palette", "a.png", "-k", "3", "--quiet"], 0);
    assert_eq!(stderr, "");
    assert_eq!(String::from_utf8(stdout).unwrap().lines().count(), 3);

    // A failed input of a batch is still named, and a warning still shown:
    // segment clusters partly transparent pixels as if opaque.
    let rgba = image::RgbaImage::from_fn(8, 2, |x, _| image::Rgba([9, 9, 9, (x * 30) as u8]));
    rgba.save(dir.path().join("fade.png")).unwrap();
    let (stderr, _) = stderr_of(
        dir.path(),
        &[
            "segment", "fade.png", "gone.png", "-k", "2", "-o", "out/", "-q",
        ],
        1,
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines.iter().any(|l| l.starts_with("warning: fade.png has")),
        "{stderr}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("error: ") && l.contains("gone.png")),
        "{stderr}"
    );

    let err = fails_with(dir.path(), &["quantize", "a.png", "-q", "-v"], 2);
    assert!(
        err.contains("'--quiet' cannot be used with '--verbose'"),
        "{err}"
    );
}
