//! The pictures of a segmentation, as PNG bytes: the label map, a mask and a
//! cutout per cluster, the overlay and the region means.

use pixmeans_core::{ColorSpace, ImageRef, LabelMap, Segmentation, segment::region_means};

use crate::encode::EncodeError;
use crate::indexed_png::PngCompression;

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
    encode_png(
        map.width(),
        map.height(),
        png::ColorType::Grayscale,
        depth,
        &bytes,
        compression,
    )
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
    encode_png(
        map.width(),
        map.height(),
        png::ColorType::Grayscale,
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
    let rgba: Vec<u8> = image
        .data()
        .chunks_exact(ch)
        .zip(map.labels())
        .flat_map(|(p, &l)| {
            if l == cluster {
                [p[0], p[1], p[2], if ch == 4 { p[3] } else { 255 }]
            } else {
                [0; 4]
            }
        })
        .collect();
    encode_png(
        image.width(),
        image.height(),
        png::ColorType::Rgba,
        png::BitDepth::Eight,
        &rgba,
        compression,
    )
}

/// The image with every pixel moved [`OVERLAY_TINT`] of the way toward its
/// cluster's colour, and the boundaries between clusters drawn one pixel
/// wide (a pixel is on a boundary when its right or lower neighbour is in
/// another cluster) in white over dark pixels and black over light ones.
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
    let mut out = Vec::with_capacity(w * h * ch);
    for (i, p) in image.data().chunks_exact(ch).enumerate() {
        let l = labels[i];
        let (x, y) = (i % w, i / w);
        let edge = (x + 1 < w && labels[i + 1] != l) || (y + 1 < h && labels[i + w] != l);
        let mut rgb = [p[0], p[1], p[2]];
        if let Some(c) = colors.get(l as usize) {
            for k in 0..3 {
                let mixed =
                    f32::from(rgb[k]) + OVERLAY_TINT * (f32::from(c[k]) - f32::from(rgb[k]));
                rgb[k] = mixed.round() as u8;
            }
        }
        if edge {
            let light = ColorSpace::Oklab.from_srgb(rgb)[0] > 0.6;
            rgb = if light { [0; 3] } else { [255; 3] };
        }
        out.extend_from_slice(&rgb);
        if ch == 4 {
            out.push(if edge { 255 } else { p[3] });
        }
    }
    encode_rgb_or_rgba(image, &out, compression)
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
    let void = seg.labels().void();
    let region_labels = seg.regions().labels();
    let mut out = Vec::with_capacity(image.pixel_count() * ch);
    for &id in seg.regions().ids() {
        let void_region = region_labels[id as usize] == void;
        if void_region {
            out.extend_from_slice(&[0; 3]);
        } else {
            out.extend_from_slice(&means[id as usize]);
        }
        if ch == 4 {
            out.push(if void_region { 0 } else { 255 });
        }
    }
    encode_rgb_or_rgba(image, &out, compression)
}

fn encode_rgb_or_rgba(
    image: &ImageRef<'_>,
    data: &[u8],
    compression: PngCompression,
) -> Result<Vec<u8>, EncodeError> {
    let color = if image.format().channels() == 4 {
        png::ColorType::Rgba
    } else {
        png::ColorType::Rgb
    };
    encode_png(
        image.width(),
        image.height(),
        color,
        png::BitDepth::Eight,
        data,
        compression,
    )
}

/// A PNG of already laid-out rows.
///
/// Labels and masks (greyscale), flat by nature, are written unfiltered at
/// the zlib level of `compression`. Photos (overlay, mean, cutouts) get the
/// png crate's adaptive filter and, unless `compression` is
/// [`PngCompression::Best`], its fdeflate encoder: on the 12 MP
/// `sunset.jpg` as RGB, 0.28 s and 10.6 MB against 6.7 s and 8.6 MB at
/// zlib level 6, and faster and smaller than level 1 (0.63 s, 11.2 MB).
/// A segmentation writes a dozen such pictures, so this is most of its time.
fn encode_png(
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    compression: PngCompression,
) -> Result<Vec<u8>, EncodeError> {
    let error = |e: png::EncodingError| EncodeError::Encoder {
        format: "png",
        detail: e.to_string(),
    };
    let photo = color != png::ColorType::Grayscale;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color);
    encoder.set_depth(depth);
    encoder.set_deflate_compression(if photo && compression != PngCompression::Best {
        png::DeflateCompression::FdeflateUltraFast
    } else {
        png::DeflateCompression::Level(compression.zlib_level())
    });
    encoder.set_filter(if photo {
        png::Filter::Adaptive
    } else {
        png::Filter::NoFilter
    });
    let mut writer = encoder.write_header().map_err(error)?;
    writer.write_image_data(data).map_err(error)?;
    writer.finish().map_err(error)?;
    Ok(out)
}
