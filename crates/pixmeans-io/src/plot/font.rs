//! The one font every plot uses, compiled into the binary.

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

use super::PlotError;

/// `DejaVu Sans` 2.37, unmodified; Bitstream Vera and Arev licences (public
/// domain for the `DejaVu` changes), in `fonts/LICENSE-DejaVu.txt`. It has every
/// glyph our captions use: ΔE, ², ·, ×.
static DEJAVU_SANS: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

/// Registers the embedded font as `sans-serif` (the name plotters'
/// [`FontFamily::SansSerif`](plotters::style::FontFamily::SansSerif) looks
/// up, and the family SVG output asks the viewer for). Safe to call often.
pub(super) fn ensure_registered() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font("sans-serif", FontStyle::Normal, DEJAVU_SANS).is_ok()
            && register_font("sans-serif", FontStyle::Bold, DEJAVU_SANS).is_ok()
    });
    if ok { Ok(()) } else { Err(PlotError::Font) }
}
