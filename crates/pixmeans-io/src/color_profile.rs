//! Colour profiles: a photo whose file says its colours are in another RGB
//! space (Adobe RGB, Display P3) is converted to sRGB on reading, as
//! pngquant does when built with colour-profile support. Everything after
//! reading takes the pixels as sRGB: Oklab and CIELAB, ΔE, the palette's hex
//! codes, the plots, and every file written, none of which carries a
//! profile. Without the conversion an Adobe RGB photo's output would look
//! washed out beside its original.

use moxcms::{ColorProfile, DataColorSpace, Layout, ProfileText, TransformOptions};
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
    /// The pixels were converted from the profile's RGB space to sRGB
    /// (colours outside sRGB are clipped to its edge).
    Converted {
        /// The profile's description, such as `"Adobe RGB (1998)"`, or
        /// `"unnamed"`.
        name: String,
    },
    /// The profile was not used, and the pixels are taken as sRGB.
    Ignored {
        /// Why: the profile cannot be read, or describes grey or CMYK
        /// values (which the decoder has already turned into RGB).
        reason: String,
    },
}

/// Converts `data` (RGB8, or RGBA8 when `has_alpha`; alpha is kept) from the
/// space `icc` describes to sRGB, in place, and says what it did.
pub(crate) fn to_srgb(icc: Option<&[u8]>, data: &mut [u8], has_alpha: bool) -> ProfileUse {
    let Some(icc) = icc else {
        return ProfileUse::Absent;
    };
    let ignored = |reason: String| ProfileUse::Ignored { reason };
    let profile = match ColorProfile::new_from_slice(icc) {
        Ok(profile) => profile,
        Err(e) => return ignored(format!("its colour profile cannot be read ({e})")),
    };
    if profile.color_space != DataColorSpace::Rgb {
        return ignored(format!(
            "its colour profile is for {:?} values, not RGB",
            profile.color_space
        ));
    }
    let layout = if has_alpha { Layout::Rgba } else { Layout::Rgb };
    let srgb = ColorProfile::new_srgb();
    let transform =
        match profile.create_transform_8bit(layout, &srgb, layout, TransformOptions::default()) {
            Ok(t) => t,
            Err(e) => {
                return ignored(format!(
                    "its colour profile cannot be converted to sRGB ({e})"
                ));
            }
        };
    // Deciding from the profile's tags would need tolerances for every way
    // of writing sRGB down (v2 tables, v4 curves, rounded colourants); what
    // it does to colours is the test that matters.
    let channels = if has_alpha { 4 } else { 3 };
    let probe: Vec<u8> = probe_colors()
        .flat_map(|rgb| {
            let mut pixel = [255; 4];
            pixel[..3].copy_from_slice(&rgb);
            pixel.into_iter().take(channels)
        })
        .collect();
    let mut probed = vec![0; probe.len()];
    if let Err(e) = transform.transform(&probe, &mut probed) {
        return ignored(format!(
            "its colour profile cannot be converted to sRGB ({e})"
        ));
    }
    if probe.iter().zip(&probed).all(|(a, b)| a.abs_diff(*b) <= 1) {
        return ProfileUse::Srgb;
    }
    // Moxcms converts 12 MP in 33 ms on one core; by rows in parallel, with
    // a copy of each chunk as the transform's source.
    let chunk = channels * 16_384;
    let failed = data
        .par_chunks_mut(chunk)
        .map_init(Vec::new, |source, pixels| {
            source.clear();
            source.extend_from_slice(pixels);
            transform.transform(source, pixels).err()
        })
        .find_any(Option::is_some)
        .flatten();
    match failed {
        Some(e) => ignored(format!(
            "its colour profile cannot be converted to sRGB ({e})"
        )),
        None => ProfileUse::Converted {
            name: name(&profile).unwrap_or_else(|| "unnamed".to_owned()),
        },
    }
}

/// Every colour of a 17-level grid (0, 16, ..., 240, 255 on each channel).
fn probe_colors() -> impl Iterator<Item = [u8; 3]> {
    let level = |i: u16| (i * 16).min(255) as u8;
    (0..17u16).flat_map(move |r| {
        (0..17u16).flat_map(move |g| (0..17u16).map(move |b| [level(r), level(g), level(b)]))
    })
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
        let used = to_srgb(Some(&p3), &mut data, false);
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
        let used = to_srgb(Some(&adobe), &mut data, true);
        assert!(matches!(used, ProfileUse::Converted { .. }), "{used:?}");
        assert_eq!([data[3], data[7], data[11]], [0, 77, 255]);
        assert_ne!(data[..3], [40, 200, 60]);
    }

    #[test]
    fn an_srgb_profile_leaves_the_pixels_alone() {
        let srgb = icc(ColorProfile::new_srgb(), "sRGB IEC61966-2.1");
        let mut data: Vec<u8> = (0..=255).collect::<Vec<u8>>().repeat(3);
        let before = data.clone();
        assert_eq!(to_srgb(Some(&srgb), &mut data, false), ProfileUse::Srgb);
        assert_eq!(data, before);
    }

    #[test]
    fn no_profile_an_unreadable_one_or_a_grey_one_change_nothing() {
        let mut data = vec![10, 20, 30];
        assert_eq!(to_srgb(None, &mut data, false), ProfileUse::Absent);
        let used = to_srgb(Some(b"not a profile at all"), &mut data, false);
        assert!(
            matches!(&used, ProfileUse::Ignored { reason } if reason.contains("cannot be read")),
            "{used:?}"
        );
        let grey = icc(ColorProfile::new_gray_with_gamma(2.2), "Grey");
        let used = to_srgb(Some(&grey), &mut data, false);
        assert!(
            matches!(&used, ProfileUse::Ignored { reason } if reason.contains("not RGB")),
            "{used:?}"
        );
        assert_eq!(data, [10, 20, 30]);
    }
}
