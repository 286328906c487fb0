//! Colour profiles: a photo whose file says its colours are in another RGB
//! space (Adobe RGB, Display P3) is converted to sRGB on reading, as
//! pngquant does when built with colour-profile support. Everything after
//! reading takes the pixels as sRGB: Oklab and CIELAB, ΔE, the palette's hex
//! codes, the plots, and every file written, none of which carries a
//! profile. Without the conversion an Adobe RGB photo's output would look
//! washed out beside its original.

use moxcms::{
    CmsError, ColorProfile, DataColorSpace, Layout, ProfileClass, ProfileText, TransformOptions,
};
use rayon::prelude::*;

/// What was done with the colour profile (ICC) a file carries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileUse {
    /// The file has no profile: its pixels are sRGB, as the formats assume.
    Absent,
    /// The profile is sRGB's in effect (every colour tried comes back within
    /// one level of itself), so the pixels are used as they are.
    Srgb,
    /// The pixels were converted from the profile's space (RGB, or grey for
    /// a grey image) to sRGB; colours outside sRGB are clipped to its edge.
    Converted {
        /// The profile's description, such as `"Adobe RGB (1998)"`, or
        /// `"unnamed"`.
        name: String,
    },
    /// The profile was not used, and the pixels are taken as sRGB.
    Ignored {
        /// Why, as a clause about the file: its profile cannot be read or
        /// converted, does not fit its pixels (a grey or CMYK profile on
        /// RGB pixels, an RGB one on grey), is a device link or abstract
        /// profile, or turns every colour into one.
        reason: String,
    },
}

/// Converts `data` (RGB8, or RGBA8 when `has_alpha`; alpha is kept) from the
/// space `icc` describes to sRGB, in place, and says what it did. `grey`
/// says that the file's pixels were grey (each of R, G and B holds the grey
/// level), which takes a grey profile; colour pixels take an RGB one.
pub(crate) fn to_srgb(
    icc: Option<&[u8]>,
    data: &mut [u8],
    has_alpha: bool,
    grey: bool,
) -> ProfileUse {
    let Some(icc) = icc else {
        return ProfileUse::Absent;
    };
    let ignored = |reason: String| ProfileUse::Ignored { reason };
    let cannot_convert = |e: CmsError| {
        ignored(format!(
            "its colour profile cannot be converted to sRGB ({e})"
        ))
    };
    let profile = match ColorProfile::new_from_slice(icc) {
        Ok(profile) => profile,
        Err(e) => return ignored(format!("its colour profile cannot be read ({e})")),
    };
    if let Some(reason) = misfit(&profile, grey) {
        return ignored(reason);
    }
    let channels = if has_alpha { 4 } else { 3 };
    let (from, to) = match (grey, has_alpha) {
        (false, false) => (Layout::Rgb, Layout::Rgb),
        (false, true) => (Layout::Rgba, Layout::Rgba),
        (true, false) => (Layout::Gray, Layout::Rgb),
        (true, true) => (Layout::GrayAlpha, Layout::Rgba),
    };
    let transform = match profile.create_transform_8bit(
        from,
        &ColorProfile::new_srgb(),
        to,
        TransformOptions::default(),
    ) {
        Ok(t) => t,
        Err(e) => return cannot_convert(e),
    };
    // The transform's source: a pixel's grey level (from R) or its R, G and
    // B, then its alpha.
    let source_of = |pixels: &[u8], source: &mut Vec<u8>| {
        source.clear();
        if grey {
            for p in pixels.chunks_exact(channels) {
                source.push(p[0]);
                source.extend_from_slice(&p[3..]);
            }
        } else {
            source.extend_from_slice(pixels);
        }
    };
    // Deciding from the profile's tags would need tolerances for every way
    // of writing sRGB down (v2 tables, v4 curves, rounded colourants); what
    // it does to colours is the test that matters.
    let probe: Vec<u8> = probe_colors(grey)
        .flat_map(|rgb| {
            let mut pixel = [255; 4];
            pixel[..3].copy_from_slice(&rgb);
            pixel.into_iter().take(channels)
        })
        .collect();
    let mut probed = probe.clone();
    let mut source = Vec::new();
    source_of(&probe, &mut source);
    if let Err(e) = transform.transform(&source, &mut probed) {
        return cannot_convert(e);
    }
    if probe.iter().zip(&probed).all(|(a, b)| a.abs_diff(*b) <= 1) {
        return ProfileUse::Srgb;
    }
    // A broken curve (flat, or gamma 0) would leave a photo one colour, or
    // nearly: black to white spans less than a sixteenth of each channel.
    let spread = |c: usize| {
        let values = probed.iter().skip(c).step_by(channels);
        values.clone().max().unwrap_or(&0) - values.min().unwrap_or(&0)
    };
    if (0..3).all(|c| spread(c) < 16) {
        return ignored(
            "its colour profile turns every colour into one, so it is taken to be broken"
                .to_owned(),
        );
    }
    // Moxcms converts 12 MP in 33 ms on one core; by chunks in parallel,
    // with a copy of each chunk as the transform's source.
    let failed = data
        .par_chunks_mut(channels * 16_384)
        .map_init(Vec::new, |source, pixels| {
            source_of(pixels, source);
            transform.transform(source, pixels).err()
        })
        .find_any(Option::is_some)
        .flatten();
    match failed {
        Some(e) => cannot_convert(e),
        None => ProfileUse::Converted {
            name: name(&profile).unwrap_or_else(|| "unnamed".to_owned()),
        },
    }
}

/// Why `profile` cannot describe the file's pixels (grey ones if `grey`),
/// if it cannot.
fn misfit(profile: &ColorProfile, grey: bool) -> Option<String> {
    // A device link or an abstract profile maps colours to colours, and
    // describes no image's.
    if !matches!(
        profile.profile_class,
        ProfileClass::InputDevice | ProfileClass::DisplayDevice | ProfileClass::ColorSpace
    ) {
        return Some(format!(
            "its colour profile is of the {:?} class, which describes no image's colours",
            profile.profile_class
        ));
    }
    let wanted = if grey {
        DataColorSpace::Gray
    } else {
        DataColorSpace::Rgb
    };
    (profile.color_space != wanted).then(|| {
        format!(
            "its colour profile is for {} values, but its pixels are {}",
            space_name(profile.color_space),
            if grey { "grey" } else { "RGB" }
        )
    })
}

/// A colour space's name as messages give it.
fn space_name(space: DataColorSpace) -> String {
    match space {
        DataColorSpace::Gray => "grey".to_owned(),
        DataColorSpace::Rgb => "RGB".to_owned(),
        DataColorSpace::Cmyk => "CMYK".to_owned(),
        DataColorSpace::Lab => "CIELAB".to_owned(),
        DataColorSpace::Xyz => "XYZ".to_owned(),
        other => format!("{other:?}"),
    }
}

/// The colours a profile is tried on: every grey level, or every colour of
/// a 17-level grid (0, 16, ..., 240, 255 on each channel).
fn probe_colors(grey: bool) -> Box<dyn Iterator<Item = [u8; 3]>> {
    if grey {
        return Box::new((0..=255).map(|v| [v; 3]));
    }
    let level = |i: u16| (i * 16).min(255) as u8;
    Box::new((0..17u16).flat_map(move |r| {
        (0..17u16).flat_map(move |g| (0..17u16).map(move |b| [level(r), level(g), level(b)]))
    }))
}

/// The profile's description, trimmed, if it has one.
fn name(profile: &ColorProfile) -> Option<String> {
    let text = match profile.description.as_ref()? {
        ProfileText::PlainString(s) => s.clone(),
        ProfileText::Localizable(strings) => strings.first()?.value.clone(),
        ProfileText::Description(d) => d.ascii_string.clone(),
    };
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use moxcms::ToneReprCurve;

    fn icc(mut profile: ColorProfile, name: &str) -> Vec<u8> {
        profile.description = Some(ProfileText::PlainString(name.to_owned()));
        profile.encode().unwrap()
    }

    #[test]
    fn display_p3_colours_become_srgb_and_greys_stay() {
        let p3 = icc(ColorProfile::new_display_p3(), "Display P3");
        // P3's red is beyond sRGB's: clipped to sRGB's red. A muted P3
        // red is a more saturated sRGB one. Greys share P3's white and
        // curve, so they stay.
        let mut data = vec![255, 0, 0, 180, 90, 90, 128, 128, 128];
        let used = to_srgb(Some(&p3), &mut data, false, false);
        assert_eq!(
            used,
            ProfileUse::Converted {
                name: "Display P3".to_owned()
            }
        );
        assert_eq!(data[..3], [255, 0, 0]);
        assert!(data[3] > 180 && data[4] < 90, "{data:?}");
        for &grey in &data[6..9] {
            assert!(grey.abs_diff(128) <= 1, "{data:?}");
        }
    }

    #[test]
    fn alpha_is_kept_through_a_conversion() {
        let adobe = icc(ColorProfile::new_adobe_rgb(), "Adobe RGB (1998)");
        let mut data = vec![40, 200, 60, 0, 40, 200, 60, 77, 40, 200, 60, 255];
        let used = to_srgb(Some(&adobe), &mut data, true, false);
        assert!(matches!(used, ProfileUse::Converted { .. }), "{used:?}");
        assert_eq!([data[3], data[7], data[11]], [0, 77, 255]);
        assert_ne!(data[..3], [40, 200, 60]);
    }

    #[test]
    fn an_srgb_profile_leaves_the_pixels_alone() {
        let srgb = icc(ColorProfile::new_srgb(), "sRGB IEC61966-2.1");
        let mut data: Vec<u8> = (0..=255).collect::<Vec<u8>>().repeat(3);
        let before = data.clone();
        assert_eq!(
            to_srgb(Some(&srgb), &mut data, false, false),
            ProfileUse::Srgb
        );
        assert_eq!(data, before);
    }

    #[test]
    fn an_srgb_profile_written_with_sampled_curves_is_still_srgb() {
        // As the common v2 profiles write it: 1024-entry curves.
        let mut v2 = ColorProfile::new_srgb();
        let curve: Vec<u16> = (0..1024)
            .map(|i| {
                let v = f64::from(i) / 1023.0;
                let linear = if v <= 0.040_45 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                };
                (linear * 65535.0).round() as u16
            })
            .collect();
        v2.red_trc = Some(ToneReprCurve::Lut(curve.clone()));
        v2.green_trc = Some(ToneReprCurve::Lut(curve.clone()));
        v2.blue_trc = Some(ToneReprCurve::Lut(curve));
        let v2 = icc(v2, "sRGB IEC61966-2.1");
        let mut data: Vec<u8> = (0..=255).collect::<Vec<u8>>().repeat(3);
        let before = data.clone();
        assert_eq!(
            to_srgb(Some(&v2), &mut data, false, false),
            ProfileUse::Srgb
        );
        assert_eq!(data, before);
    }

    #[test]
    fn a_grey_image_takes_a_grey_profile() {
        // Gamma 1.8 is lighter than sRGB in the shadows; LittleCMS (through
        // Pillow) makes 16, 32, 48 and 64 into 20, 43, 63 and 81.
        let grey = icc(ColorProfile::new_gray_with_gamma(1.8), "Gray Gamma 1.8");
        let mut data: Vec<u8> = [16, 32, 48, 64].iter().flat_map(|&v| [v; 3]).collect();
        let used = to_srgb(Some(&grey), &mut data, false, true);
        assert!(matches!(used, ProfileUse::Converted { .. }), "{used:?}");
        for (pixel, lcms) in data.chunks_exact(3).zip([20u8, 43, 63, 81]) {
            assert!(pixel.iter().all(|&c| c.abs_diff(lcms) <= 1), "{data:?}");
        }
        // With alpha, kept.
        let mut data = vec![16, 16, 16, 0, 64, 64, 64, 200];
        to_srgb(Some(&grey), &mut data, true, true);
        assert_eq!([data[3], data[7]], [0, 200]);
        assert!(data[4].abs_diff(81) <= 1, "{data:?}");
    }

    #[test]
    fn profiles_that_do_not_fit_or_are_broken_change_nothing() {
        let original = vec![10, 20, 30, 200, 100, 50];
        let ignored = |icc: &[u8], grey: bool, says: &str| {
            let mut data = original.clone();
            let used = to_srgb(Some(icc), &mut data, false, grey);
            assert!(
                matches!(&used, ProfileUse::Ignored { reason } if reason.contains(says)),
                "{says}: {used:?}"
            );
            assert_eq!(data, original);
        };
        ignored(b"not a profile at all", false, "cannot be read");
        let grey = icc(ColorProfile::new_gray_with_gamma(2.2), "Grey");
        ignored(&grey, false, "for grey values, but its pixels are RGB");
        let p3 = icc(ColorProfile::new_display_p3(), "Display P3");
        ignored(&p3, true, "for RGB values, but its pixels are grey");
        // The header's class, bytes 12 to 15, made that of an abstract
        // profile.
        let mut abstract_class = p3.clone();
        abstract_class[12..16].copy_from_slice(b"abst");
        ignored(&abstract_class, false, "describes no image's colours");
        let mut flat = ColorProfile::new_display_p3();
        flat.cicp = None;
        for trc in [&mut flat.red_trc, &mut flat.green_trc, &mut flat.blue_trc] {
            *trc = Some(ToneReprCurve::Parametric(vec![0.0]));
        }
        ignored(&icc(flat, "Flat"), false, "turns every colour into one");

        let mut data = original.clone();
        assert_eq!(to_srgb(None, &mut data, false, false), ProfileUse::Absent);
        assert_eq!(data, original);
    }
}
