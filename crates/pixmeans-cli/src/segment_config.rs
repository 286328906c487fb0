//! `pixmeans segment`, resolved: the segmenter, which files to write, and
//! one output folder per input, all checked before any pixel is read.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use pixmeans_core::segment::{MAX_CLUSTERS, spatial::MAX_WEIGHT};
use pixmeans_core::{Connectivity, Segmenter};

use crate::args::{ConnectivityArg, InitArg, KArg, OutputKind, SegmentArgs};
use crate::config::{
    AutoK, Claims, Common, Source, auto_k, check_max_pixels, check_output_folder,
    input_overwritten, no_png_here, quantizer, sources,
};
use crate::segment_files::is_segment_file;

/// One image to segment, and the folder its files go into.
#[derive(Debug, Clone)]
pub struct SegmentJob {
    pub source: Source,
    pub dir: PathBuf,
}

/// Which files to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs(HashSet<OutputKind>);

impl Outputs {
    pub fn wants(&self, kind: OutputKind) -> bool {
        self.0.contains(&kind)
    }
}

/// `pixmeans segment`, resolved.
#[derive(Debug)]
pub struct SegmentConfig {
    pub segmenter: Segmenter,
    /// Set when `-k auto` chooses k per image (on colour alone).
    pub auto: Option<AutoK>,
    /// `-k` as typed, for the report.
    pub k_typed: KArg,
    pub outputs: Outputs,
    pub jobs: Vec<SegmentJob>,
    pub common: Common,
}

impl SegmentConfig {
    pub fn resolve(a: &SegmentArgs) -> Result<Self> {
        if !(a.spatial.is_finite() && (0.0..=MAX_WEIGHT).contains(&a.spatial)) {
            bail!(
                "--spatial must be a number from 0 to {MAX_WEIGHT}, got {}\nhint: 1 weighs position as much as colour; 0 turns it off",
                a.spatial
            );
        }
        // The quantizer's checks stop at 256 colours, an indexed image's
        // limit; labels go up to 16 bits.
        let mut kmeans = a.kmeans.clone();
        let big_k = match a.kmeans.k {
            KArg::Fixed(k) if k == 0 || k > MAX_CLUSTERS => {
                bail!("-k {k} is out of range: segment finds 1 to {MAX_CLUSTERS} clusters")
            }
            KArg::Fixed(k) if k > 256 => {
                check_max_pixels(a.kmeans.fit.max_pixels, k)?;
                kmeans.k = KArg::Fixed(256);
                Some(k)
            }
            _ => None,
        };
        let mut quantizer = quantizer(&kmeans)?;
        if let Some(k) = big_k {
            quantizer = quantizer.with_k(k);
        }
        if a.spatial > 0.0 && a.kmeans.fit.init == InitArg::Wu {
            bail!(
                "--init wu splits the colours alone, so it cannot seed a --spatial fit\nhint: use --init kmeans++ (the default) or random, or --spatial 0"
            );
        }
        let auto = auto_k(&a.kmeans)?;
        let common = Common {
            skip_existing: a.skip_existing,
            ..Common::resolve(&a.common)?.with_png(&a.png)
        };
        let segmenter = Segmenter::new(quantizer)
            .with_spatial(a.spatial)
            .with_min_region(a.min_region)
            .with_connectivity(match a.connectivity {
                ConnectivityArg::Four => Connectivity::Four,
                ConnectivityArg::Eight => Connectivity::Eight,
            });
        let all = [
            OutputKind::Labels,
            OutputKind::Npy,
            OutputKind::Masks,
            OutputKind::Cutouts,
            OutputKind::Overlay,
            OutputKind::Mean,
            OutputKind::Json,
        ];
        let outputs: HashSet<OutputKind> = if a.only.is_empty() {
            all.into_iter().filter(|k| !a.skip.contains(k)).collect()
        } else {
            a.only.iter().copied().collect()
        };
        if outputs.is_empty() {
            bail!("--skip leaves nothing to write\nhint: name fewer kinds, or use --only");
        }
        if outputs
            .iter()
            .all(|k| matches!(k, OutputKind::Npy | OutputKind::Json))
        {
            no_png_here(&a.png, "labels.npy and segments.json are not PNG")?;
        }
        if let Some(o) = &a.output {
            check_output_folder("segment", o)?;
        }
        let (sources, from_folder) = sources(
            &a.inputs,
            "an option's value follows it after a space (-k 8)",
        )?;
        let batch = sources.len() > 1 || from_folder;
        let jobs: Vec<SegmentJob> = sources
            .into_iter()
            .map(|source| {
                let dir = match &a.output {
                    Some(o) if batch => o.join(source.stem()),
                    Some(o) => o.clone(),
                    None => {
                        let mut name = source.stem();
                        name.push("-segments");
                        PathBuf::from(name)
                    }
                };
                SegmentJob { source, dir }
            })
            .collect();
        check_folders(&jobs)?;
        Ok(SegmentConfig {
            segmenter,
            auto,
            k_typed: a.kmeans.k,
            outputs: Outputs(outputs),
            jobs,
            common,
        })
    }
}

/// Refuses two inputs that would share a folder, a folder that is a file,
/// and an input that an output would replace (`--force` is for outputs).
fn check_folders(jobs: &[SegmentJob]) -> Result<()> {
    let inputs: Vec<PathBuf> = jobs.iter().filter_map(|j| j.source.canonical()).collect();
    let mut claims = Claims::default();
    for job in jobs {
        let dir = job.dir.canonicalize().ok();
        if let Some(input) = inputs.iter().find(|i| {
            i.parent().map(Path::to_path_buf) == dir
                && i.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(is_segment_file)
        }) {
            return Err(input_overwritten(input));
        }
        if job.dir.is_file() {
            bail!(
                "{} is a file, but segment writes a folder of files\nhint: name a folder with -o",
                job.dir.display()
            );
        }
        crate::config::refuse_file_as_folder(&job.dir, &job.dir)?;
        claims.claim(&job.dir, &job.source);
    }
    claims.refuse_clashes("segment")
}
