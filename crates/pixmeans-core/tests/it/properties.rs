//! Properties that hold for every image and every k.

use pixmeans_core::{ColorSpace, ImageRef, KMeansParams, PixelFormat, Quantizer};
use proptest::prelude::*;

/// Small images drawn from a small alphabet, so colours repeat.
fn image() -> impl Strategy<Value = (u32, u32, Vec<u8>)> {
    (1u32..14, 1u32..14).prop_flat_map(|(w, h)| {
        let alphabet = prop::collection::vec(any::<[u8; 3]>(), 1..12);
        (
            Just(w),
            Just(h),
            alphabet,
            prop::collection::vec(any::<prop::sample::Index>(), (w * h) as usize),
        )
            .prop_map(|(w, h, a, picks)| {
                (
                    w,
                    h,
                    picks.iter().flat_map(|i| a[i.index(a.len())]).collect(),
                )
            })
    })
}

fn space() -> impl Strategy<Value = ColorSpace> {
    prop::sample::select(ColorSpace::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn palette_and_labels_are_well_formed((w, h, px) in image(), k in 1usize..10, space in space(), seed in 0u64..4) {
        let img = ImageRef::new(w, h, PixelFormat::Rgb8, &px).unwrap();
        let q = Quantizer::new(KMeansParams::new(k).with_seed(seed)).with_color_space(space).quantize(&img).unwrap();
        let mut distinct: Vec<&[u8]> = px.chunks_exact(3).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let n = q.image().palette().len();
        prop_assert_eq!(n, k.min(distinct.len()));
        prop_assert!(q.image().indices().iter().all(|&i| usize::from(i) < n));
        // Each pixel carries its nearest centroid.
        let cents = q.fit().centroids();
        for (p, &i) in px.chunks_exact(3).zip(q.image().indices()) {
            let x = space.from_srgb([p[0], p[1], p[2]]);
            let d = |c: &[f32; 3]| (0..3).map(|j| (x[j] - c[j]).powi(2)).sum::<f32>();
            let own = d(&cents[usize::from(i)]);
            prop_assert!(cents.iter().all(|c| own <= d(c)));
        }
        // Lloyd never raises the inertia, but for over-relaxed steps that
        // were turned down for doing so.
        let hist = q.fit().history();
        let kept: Vec<_> = hist.iter().filter(|i| !i.turned_down).collect();
        for pair in kept.windows(2) {
            prop_assert!(pair[1].inertia <= pair[0].inertia * (1.0 + 1e-9) + 1e-9, "{:?}", hist);
        }
        if let Some(last) = hist.last() {
            prop_assert!(q.inertia() <= last.inertia * (1.0 + 1e-9) + 1e-9);
        }
        // Same seed, same bytes.
        let again = Quantizer::new(KMeansParams::new(k).with_seed(seed)).with_color_space(space).quantize(&img).unwrap();
        prop_assert_eq!(q.image(), again.image());
    }

    #[test]
    fn a_one_colour_image_gives_one_entry_and_zero_inertia(w in 1u32..20, h in 1u32..20, c in any::<[u8; 3]>(), k in 1usize..257) {
        let px: Vec<u8> = (0..w * h).flat_map(|_| c).collect();
        let img = ImageRef::new(w, h, PixelFormat::Rgb8, &px).unwrap();
        let q = Quantizer::new(KMeansParams::new(k)).quantize(&img).unwrap();
        prop_assert_eq!(q.image().palette().rgb(), vec![c]);
        prop_assert_eq!(q.inertia(), 0.0);
        prop_assert_eq!(q.mse(), 0.0);
    }
}
