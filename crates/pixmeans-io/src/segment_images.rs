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

/// 8 when every label present fits a byte, else 16 (labels are at most
/// 2^16 by construction).
pub fn label_bits(map: &LabelMap) -> u8 {
    if map.labels().iter().all(|&l| l <= 255) {
        8
    } else {
        16
    }
}

/// One cluster as a 1-bit greyscale PNG: white inside, black outside.
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
pub fn cutout_png(
    image: &ImageRef<'_>,
    map: &LabelMap,
    cluster: u32,
    compression: PngCompression,
) -> Result<Vec<u8>, EncodeError> {
    let ch = image.format().channels();
    let w = image.width() as usize;
    let (data, labels) = (image.data(), map.labels());
    photo_png(
        image.width(),
        image.height(),
        true,
        compression,
        |y, out| {
            let pixels = &data[y * w * ch..(y + 1) * w * ch];
            let labels = &labels[y * w..(y + 1) * w];
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
/// another cluster) in white over dark pixels and black over light ones
/// (by the Rec. 709 luma of the photo's pixel).
/// RGB, or RGBA keeping the image's alpha when it has some.
pub fn overlay_png(
    image: &ImageRef<'_>,
    seg: &Segmentation,
    compression: PngCompression,
) -> Result<Vec<u8>, EncodeError> {
    let map = seg.labels();
    let (w, h) = (map.width() as usize, map.height() as usize);
    let labels = map.labels();
    let colors: Vec<[u8; 3]> = seg.clusters().iter().map(|c| c.color).collect();
    let ch = image.format().channels();
    let data = image.data();
    photo_png(
        image.width(),
        image.height(),
        ch == 4,
        compression,
        |y, out| {
            let pixels = &data[y * w * ch..(y + 1) * w * ch];
            let row = &labels[y * w..(y + 1) * w];
            let below = (y + 1 < h).then(|| &labels[(y + 1) * w..(y + 2) * w]);
            if ch == 4 {
                overlay_row::<4>(pixels, row, below, &colors, out);
            } else {
                overlay_row::<3>(pixels, row, below, &colors, out);
            }
        },
    )
}

/// [`OVERLAY_TINT`] in 256ths, so that the tint is mixed in integers: the
/// same bytes as in floating point for any multiple of 1/256 (0.5 is), and
/// the overlay's row took a third less time on the 12 MP sunset.jpg.
const TINT: u32 = (OVERLAY_TINT * 256.0) as u32;

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
        let edge = (x + 1 < w && labels[x + 1] != l) || below.is_some_and(|b| b[x] != l);
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
pub fn mean_png(
    image: &ImageRef<'_>,
    seg: &Segmentation,
    compression: PngCompression,
) -> Result<Vec<u8>, EncodeError> {
    let means = region_means(image, seg.regions());
    let ch = image.format().channels();
    let w = image.width() as usize;
    let void = seg.labels().void();
    let (ids, region_labels) = (seg.regions().ids(), seg.regions().labels());
    photo_png(
        image.width(),
        image.height(),
        ch == 4,
        compression,
        |y, out| {
            for (o, &id) in out.chunks_exact_mut(ch).zip(&ids[y * w..(y + 1) * w]) {
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
        },
    )
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
    let error = |e: png::EncodingError| EncodeError::Encoder {
        format: "png",
        detail: e.to_string(),
    };
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(depth);
    encoder.set_deflate_compression(png::DeflateCompression::Level(compression.zlib_level()));
    encoder.set_filter(png::Filter::NoFilter);
    let mut writer = encoder.write_header().map_err(error)?;
    writer.write_image_data(data).map_err(error)?;
    writer.finish().map_err(error)?;
    Ok(out)
}
