//! The pictures of a segmentation, as PNG bytes: the label map, a mask and a
//! cutout per cluster, the overlay and the region means.

use pixmeans_core::{ImageRef, LabelMap, Segmentation, segment::region_means};

use crate::encode::EncodeError;
use crate::indexed_png::PngCompression;
use crate::photo_png::photo_png;

/// How far the overlay moves each pixel toward its cluster's colour: half.
pub const OVERLAY_TINT: f32 = 0.5;

/// The label map as a greyscale PNG whose value is the label: 8-bit when
/// every label present is at most 255, else 16-bit. Fully transparent pixels
/// carry the void label (the cluster count).
///
/// # Errors
///
/// [`EncodeError::Encoder`] when the png crate refuses the header or the
/// data.
pub fn labels_png(map: &LabelMap, compression: PngCompression) -> Result<Vec<u8>, EncodeError> {
    let (bytes, depth) = if label_bits(map) == 8 {
        (
            map.labels().iter().map(|&l| l as u8).collect(),
            png::BitDepth::Eight,
        )
    } else {
        let be: Vec<u8> = map
            .labels()
            .iter()
            .flat_map(|&l| (l as u16).to_be_bytes())
            .collect();
        (be, png::BitDepth::Sixteen)
    };
    grey_png(map.width(), map.height(), depth, &bytes, compression)
}

/// 8 when every label present fits a byte, else 16 (a label map's labels
/// are below 2^16, the void one included).
pub fn label_bits(map: &LabelMap) -> u8 {
    if map.labels().iter().all(|&l| l <= 255) {
        8
    } else {
        16
    }
}

/// One cluster as a 1-bit greyscale PNG: white inside, black outside.
///
/// # Errors
///
/// [`EncodeError::Encoder`] when the png crate refuses the header or the
/// data.
pub fn mask_png(
    map: &LabelMap,
    cluster: u32,
    compression: PngCompression,
) -> Result<Vec<u8>, EncodeError> {
    let w = map.width() as usize;
    let mut packed = Vec::with_capacity(w.div_ceil(8) * map.height() as usize);
    for row in map.labels().chunks(w) {
        for group in row.chunks(8) {
            let byte = group.iter().enumerate().fold(0u8, |acc, (i, &l)| {
                acc | (u8::from(l == cluster) << (7 - i))
            });
            packed.push(byte);
        }
    }
    grey_png(
        map.width(),
        map.height(),
        png::BitDepth::One,
        &packed,
        compression,
    )
}

/// The image's own pixels of one cluster, the rest fully transparent
/// (RGBA; a pixel keeps its own alpha).
///
/// # Errors
///
/// - [`EncodeError::LabelsDoNotFit`] when `map` is not the size of `image`;
/// - [`EncodeError::Encoder`] when compressing the rows or writing the PNG
///   fails.
pub fn cutout_png(
    image: &ImageRef<'_>,
    map: &LabelMap,
    cluster: u32,
    compression: PngCompression,
) -> Result<Vec<u8>, EncodeError> {
    check_fit(image, map)?;
    let ch = image.format().channels();
    let w = image.width() as usize;
    let (data, labels) = (image.data(), map.labels());
    photo_png(
        image.width(),
        image.height(),
        true,
        compression,
        |y, out| {
            let pixels = row_of(data, y, w * ch);
            let labels = row_of(labels, y, w);
            if ch == 4 {
                cutout_row::<4>(pixels, labels, cluster, out);
            } else {
                cutout_row::<3>(pixels, labels, cluster, out);
            }
        },
    )
}

/// One row of a cutout as RGBA: the pixels labelled `cluster`, opaque
/// unless they carry their own alpha, and zeros elsewhere (without a
/// branch, as a cluster's pixels come and go along a row).
fn cutout_row<const CH: usize>(pixels: &[u8], labels: &[u32], cluster: u32, out: &mut [u8]) {
    let out = out.as_chunks_mut::<4>().0;
    for ((o, p), &l) in out.iter_mut().zip(pixels.as_chunks::<CH>().0).zip(labels) {
        let keep = 0u32.wrapping_sub(u32::from(l == cluster));
        let alpha = if CH == 4 { p[CH - 1] } else { 255 };
        *o = (u32::from_le_bytes([p[0], p[1], p[2], alpha]) & keep).to_le_bytes();
    }
}

/// The image with every pixel moved [`OVERLAY_TINT`] of the way toward its
/// cluster's colour, and the boundaries between clusters drawn one pixel
/// wide (a pixel is on a boundary when its right or lower neighbour is in
/// another cluster; fully transparent pixels are in none, and stay
/// transparent) in white over dark pixels and black over light ones
/// (by the Rec. 709 luma of the photo's pixel).
/// RGB, or RGBA keeping the image's alpha when it has some.
///
/// # Errors
///
/// - [`EncodeError::LabelsDoNotFit`] when the label map of `seg` is not the
///   size of `image`;
/// - [`EncodeError::Encoder`] when compressing the rows or writing the PNG
///   fails.
pub fn overlay_png(
    image: &ImageRef<'_>,
    seg: &Segmentation,
    compression: PngCompression,
) -> Result<Vec<u8>, EncodeError> {
    let map = seg.labels();
    check_fit(image, map)?;
    let (w, h) = (map.width() as usize, map.height() as usize);
    let labels = map.labels();
    let colors: Vec<[u8; 3]> = seg.clusters().iter().map(|c| c.color).collect();
    let ch = image.format().channels();
    let data = image.data();
    like_image(image, compression, |y, out| {
        let pixels = row_of(data, y, w * ch);
        let row = row_of(labels, y, w);
        let below = (y + 1 < h).then(|| row_of(labels, y + 1, w));
        if ch == 4 {
            overlay_row::<4>(pixels, row, below, &colors, out);
        } else {
            overlay_row::<3>(pixels, row, below, &colors, out);
        }
    })
}

/// [`OVERLAY_TINT`] in 256ths, so that the tint is mixed in integers: the
/// same bytes as in floating point for any multiple of 1/256 (0.5 is), and
/// the overlay's row took a third less time on the 12 MP sunset.jpg.
const TINT: u32 = (OVERLAY_TINT * 256.0) as u32;
const _: () = assert!(
    TINT as f32 == OVERLAY_TINT * 256.0,
    "the tint is a multiple of 1/256"
);

/// One row of the overlay: `labels` are the row's, `below` the next row's
/// (none for the last row).
fn overlay_row<const CH: usize>(
    pixels: &[u8],
    labels: &[u32],
    below: Option<&[u32]>,
    colors: &[[u8; 3]],
    out: &mut [u8],
) {
    let w = labels.len();
    let out = out.as_chunks_mut::<CH>().0;
    for (x, (o, p)) in out.iter_mut().zip(pixels.as_chunks::<CH>().0).enumerate() {
        let l = labels[x];
        // A boundary lies between two clusters: transparent pixels (the
        // void label, past the colours) are in none, and stay as they are.
        let other = |n: u32| n != l && (n as usize) < colors.len();
        let edge = (l as usize) < colors.len()
            && ((x + 1 < w && other(labels[x + 1])) || below.is_some_and(|b| other(b[x])));
        let mut rgb = [p[0], p[1], p[2]];
        if edge {
            // Rec. 709 luma: black lines over light pixels, white over dark.
            let luma =
                2126 * u32::from(rgb[0]) + 7152 * u32::from(rgb[1]) + 722 * u32::from(rgb[2]);
            rgb = if luma > 128 * 10_000 {
                [0; 3]
            } else {
                [255; 3]
            };
        } else if let Some(c) = colors.get(l as usize) {
            for (v, &c) in rgb.iter_mut().zip(c) {
                // Rounded half up.
                *v = ((u32::from(*v) * (256 - TINT) + u32::from(c) * TINT + 128) >> 8) as u8;
            }
        }
        o[..3].copy_from_slice(&rgb);
        if CH == 4 {
            o[CH - 1] = if edge { 255 } else { p[CH - 1] };
        }
    }
}

/// Every connected region filled with the mean colour of its pixels (RGB,
/// or RGBA with fully transparent pixels kept transparent).
///
/// # Errors
///
/// - [`EncodeError::LabelsDoNotFit`] when the label map of `seg` is not the
///   size of `image`;
/// - [`EncodeError::Encoder`] when compressing the rows or writing the PNG
///   fails.
pub fn mean_png(
    image: &ImageRef<'_>,
    seg: &Segmentation,
    compression: PngCompression,
) -> Result<Vec<u8>, EncodeError> {
    check_fit(image, seg.labels())?;
    let means = region_means(image, seg.regions());
    let ch = image.format().channels();
    let w = image.width() as usize;
    let void = seg.labels().void();
    let (ids, region_labels) = (seg.regions().ids(), seg.regions().labels());
    like_image(image, compression, |y, out| {
        for (o, &id) in out.chunks_exact_mut(ch).zip(row_of(ids, y, w)) {
            let void_region = region_labels[id as usize] == void;
            let rgb = if void_region {
                [0; 3]
            } else {
                means[id as usize]
            };
            o[..3].copy_from_slice(&rgb);
            if ch == 4 {
                o[3] = if void_region { 0 } else { 255 };
            }
        }
    })
}

/// A picture of the image's size, RGB or RGBA as the image is, made a row
/// at a time by `row`.
fn like_image(
    image: &ImageRef<'_>,
    compression: PngCompression,
    row: impl FnMut(usize, &mut [u8]),
) -> Result<Vec<u8>, EncodeError> {
    let alpha = image.format().channels() == 4;
    photo_png(image.width(), image.height(), alpha, compression, row)
}

/// Refuses a label map of another size than the image.
fn check_fit(image: &ImageRef<'_>, map: &LabelMap) -> Result<(), EncodeError> {
    if (map.width(), map.height()) == (image.width(), image.height()) {
        return Ok(());
    }
    Err(EncodeError::LabelsDoNotFit {
        labels_width: map.width(),
        labels_height: map.height(),
        width: image.width(),
        height: image.height(),
    })
}

/// Row `y` of `data`, whose rows are `len` items long.
fn row_of<T>(data: &[T], y: usize, len: usize) -> &[T] {
    &data[y * len..(y + 1) * len]
}

/// A greyscale PNG of already packed rows (labels and masks), unfiltered,
/// since they are flat by nature, at the zlib level of `compression`. The
/// photos (cutouts, overlay, means) go through [`photo_png`].
fn grey_png(
    width: u32,
    height: u32,
    depth: png::BitDepth,
    data: &[u8],
    compression: PngCompression,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(depth);
    encoder.set_deflate_compression(png::DeflateCompression::Level(compression.zlib_level()));
    encoder.set_filter(png::Filter::NoFilter);
    let mut writer = encoder.write_header().map_err(EncodeError::png)?;
    writer.write_image_data(data).map_err(EncodeError::png)?;
    writer.finish().map_err(EncodeError::png)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_noise::bytes;
    use pixmeans_core::{Image, KMeansParams, PixelFormat, Quantizer, Segmenter};

    #[test]
    fn the_tint_in_256ths_is_the_float_mix_rounded_half_up() {
        for p in 0..=255u8 {
            for c in 0..=255u8 {
                let float = f32::from(p) + OVERLAY_TINT * (f32::from(c) - f32::from(p));
                let int = (u32::from(p) * (256 - TINT) + u32::from(c) * TINT + 128) >> 8;
                assert_eq!(int, (float + 0.5) as u32, "p {p}, c {c}");
            }
        }
    }

    #[test]
    fn rows_are_those_pixel_by_pixel() {
        let w = 37;
        let labels: Vec<u32> = bytes(2 * w, 3).iter().map(|&b| u32::from(b % 4)).collect();
        let colors = [[10, 200, 30], [250, 250, 250], [0, 0, 0]];
        for ch in [3, 4] {
            let pixels = bytes(w * ch, 5);
            let (row, below) = (&labels[..w], &labels[w..]);
            let mut cutout = vec![1; w * 4];
            let mut overlay = vec![1; w * ch];
            if ch == 4 {
                cutout_row::<4>(&pixels, row, 2, &mut cutout);
                overlay_row::<4>(&pixels, row, Some(below), &colors, &mut overlay);
            } else {
                cutout_row::<3>(&pixels, row, 2, &mut cutout);
                overlay_row::<3>(&pixels, row, Some(below), &colors, &mut overlay);
            }
            for x in 0..w {
                let p = &pixels[x * ch..(x + 1) * ch];
                let alpha = if ch == 4 { p[3] } else { 255 };
                let want = if row[x] == 2 {
                    [p[0], p[1], p[2], alpha]
                } else {
                    [0; 4]
                };
                assert_eq!(
                    cutout[x * 4..x * 4 + 4],
                    want,
                    "cutout, {ch} channels, x {x}"
                );

                // Label 3 is past the colours: the void, in no cluster.
                let l = row[x];
                let other = |n: u32| n != l && n < 3;
                let edge = l < 3 && ((x + 1 < w && other(row[x + 1])) || other(below[x]));
                // Rec. 709 luma, in ten-thousandths.
                let luma: u32 = [2126, 7152, 722]
                    .iter()
                    .zip(p)
                    .map(|(w, &v)| w * u32::from(v))
                    .sum();
                let mut want = [p[0], p[1], p[2], if ch == 4 { p[3] } else { 0 }];
                if edge {
                    want[..3].fill(if luma > 1_280_000 { 0 } else { 255 });
                    want[3] = 255;
                } else if let Some(c) = colors.get(l as usize) {
                    for k in 0..3 {
                        let mix = f32::from(p[k]) + 0.5 * (f32::from(c[k]) - f32::from(p[k]));
                        want[k] = (mix + 0.5) as u8;
                    }
                }
                assert_eq!(
                    overlay[x * ch..(x + 1) * ch],
                    want[..ch],
                    "overlay, {ch} channels, x {x}"
                );
            }
        }
    }

    #[test]
    fn a_label_map_of_another_size_is_refused() {
        let image = Image::new(6, 4, PixelFormat::Rgb8, bytes(6 * 4 * 3, 9)).unwrap();
        let seg = Segmenter::new(Quantizer::new(KMeansParams::new(3)))
            .segment(&image.view())
            .unwrap();
        let other = Image::new(4, 6, PixelFormat::Rgb8, bytes(6 * 4 * 3, 9)).unwrap();
        let fit = |r: Result<Vec<u8>, EncodeError>| match r {
            Err(EncodeError::LabelsDoNotFit {
                labels_width: 6,
                labels_height: 4,
                width: 4,
                height: 6,
            }) => false,
            Ok(_) => true,
            Err(e) => panic!("{e}"),
        };
        let c = PngCompression::Fast;
        assert!(!fit(cutout_png(&other.view(), seg.labels(), 0, c)));
        assert!(!fit(overlay_png(&other.view(), &seg, c)));
        assert!(!fit(mean_png(&other.view(), &seg, c)));
        assert!(fit(cutout_png(&image.view(), seg.labels(), 0, c)));
        assert!(fit(overlay_png(&image.view(), &seg, c)));
        assert!(fit(mean_png(&image.view(), &seg, c)));
    }
}
