//! `pixmeans segment`: every input split into clusters, and a folder of
//! files describing them.
//!
//! Nothing is written until everything is computed and encoded; then the
//! folder is created and filled. If writing fails, what this run created
//! is removed again.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use pixmeans_core::{ImageRef, Segmentation, Segmenter};
use rayon::prelude::*;

use super::{
    Kept, Outcome, input_warnings, make_folders, quantize_auto, read, remove_empty_folders,
};
use crate::args::OutputKind;
use crate::report::KChoiceReport;
use crate::segment_config::{SegmentConfig, SegmentJob};
use crate::segment_files::{
    ClusterNames, LABELS_NPY, LABELS_PNG, MEAN_PNG, OVERLAY_PNG, SEGMENTS_JSON, cluster_file_kind,
    segment_files_in,
};
use crate::segment_report::{SegmentReport, SegmentTimings};

pub fn run(cfg: &SegmentConfig) -> Result<Outcome> {
    super::run_inputs(
        &cfg.jobs,
        cfg.common.json,
        |job| job.source.display(),
        |job| one(job, cfg),
        |done| match done {
            Done::Segmented(warning, report) => show(warning.as_deref(), report, cfg),
            Done::Kept(kept) => kept.show(cfg.common.json),
        },
    )
}

/// What came of one job.
enum Done {
    /// Segmented: the warning to print first, and the report.
    Segmented(Option<String>, Box<SegmentReport>),
    /// Not read: `--skip-existing`, and its folder holds segment files.
    Kept(Kept),
}

fn show(warning: Option<&str>, report: &SegmentReport, cfg: &SegmentConfig) -> Result<()> {
    if let Some(warning) = warning {
        crate::print_message(warning);
    }
    if cfg.common.verbose {
        crate::print_message(&report.fit.human(report.inertia, report.merged_regions));
    }
    crate::print_info(&report.human());
    if cfg.common.json {
        super::print_json(report)?;
    }
    Ok(())
}

/// Segments one input and writes its folder; returns the warning to print
/// first if only the input's first frame was used, and the report. Under
/// `--skip-existing` an input whose folder holds segment files is not read.
fn one(job: &SegmentJob, cfg: &SegmentConfig) -> Result<Done> {
    let common = &cfg.common;
    if common.skip_existing && !segment_files_in(&job.dir).is_empty() {
        return Ok(Done::Kept(Kept::new(job.source.display(), &job.dir)));
    }
    refuse_to_clobber(&job.dir, common.force)?;
    let mut seconds = SegmentTimings::default();
    let start = Instant::now();
    let decoded = read(&job.source, common)?;
    seconds.decode = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let view = decoded.image.view();
    let input = job.source.display();
    let (seg, segmenter, choice) = segment(&view, input, cfg)?;
    seconds.segment = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let names = ClusterNames::new(&seg);
    let bits = pixmeans_io::label_bits(seg.labels());
    let wants = |k| cfg.outputs.wants(k);
    let mut report = SegmentReport::new(&seg, &segmenter, cfg.k_typed, bits, |i| {
        (
            wants(OutputKind::Masks).then(|| names.mask(i)),
            wants(OutputKind::Cutouts).then(|| names.cutout(i)),
        )
    });
    report.input = input.display().to_string();
    report.output = job.dir.display().to_string();
    report.k_choice = choice.map(|c| KChoiceReport::new(&c, cfg.auto));
    let mut files = encode(&view, &seg, cfg, &names)
        .with_context(|| format!("cannot encode the files for {}", job.dir.display()))?;
    if wants(OutputKind::Json) {
        files.push((SEGMENTS_JSON.to_owned(), Vec::new()));
    }
    report.files = files.iter().map(|(n, _)| n.clone()).collect();
    if let Some(json) = files.last_mut().filter(|(n, _)| n == SEGMENTS_JSON) {
        json.1 = serde_json::to_vec_pretty(&report).context("cannot format segments.json")?;
        json.1.push(b'\n');
    }
    seconds.encode = start.elapsed().as_secs_f64();

    let start = Instant::now();
    write_folder(&job.dir, &files, common.force)?;
    seconds.write = start.elapsed().as_secs_f64();
    seconds.total = seconds.decode + seconds.segment + seconds.encode + seconds.write;
    report.seconds = Some(seconds);
    Ok(Done::Segmented(
        input_warnings(&job.source, &decoded, cfg.segmenter.quantizer().alpha()),
        Box::new(report),
    ))
}

/// Clusters the image (choosing k first under `-k auto`), merges and
/// measures; returns the segmenter with the k actually used.
fn segment(
    view: &ImageRef<'_>,
    input: &Path,
    cfg: &SegmentConfig,
) -> Result<(Segmentation, Segmenter, Option<pixmeans_core::KChoice>)> {
    let cannot = || format!("cannot segment {}", input.display());
    let base = &cfg.segmenter;
    base.validate(view.pixel_count() as u64)
        .with_context(cannot)?;
    let Some(auto) = cfg.auto else {
        return Ok((base.segment(view).with_context(cannot)?, base.clone(), None));
    };
    // k is chosen on colour alone, from the quantization it produces.
    let (q, quantizer, choice) = quantize_auto(view, input, base.quantizer(), Some(auto))?;
    let chosen = Segmenter::new(quantizer)
        .with_spatial(base.spatial())
        .with_min_region(base.min_region())
        .with_connectivity(base.connectivity());
    // By colour alone, the segmentation is that quantization; with a spatial
    // weight it is another model, fitted on colour and position.
    let seg = if chosen.spatial() == 0.0 {
        chosen.segment_quantized(view, &q)
    } else {
        chosen.segment(view)
    }
    .with_context(cannot)?;
    Ok((seg, chosen, choice))
}

/// A file's name in the folder and its bytes.
type File = (String, Vec<u8>);

/// One file to encode.
#[derive(Clone, Copy)]
enum Task {
    Labels,
    Npy,
    Mask(usize),
    Cutout(usize),
    Overlay,
    Mean,
}

/// Every requested file but segments.json, encoded in parallel, in a fixed
/// order: labels, masks, cutouts, overlay, mean.
///
/// The threads take the files from one queue, the slowest kinds first, so
/// that no thread is left alone with a long one at the end.
fn encode(
    view: &ImageRef<'_>,
    seg: &Segmentation,
    cfg: &SegmentConfig,
    names: &ClusterNames,
) -> Result<Vec<File>> {
    let wants = |k| cfg.outputs.wants(k);
    let n = seg.clusters().len();
    let mut tasks = Vec::new();
    if wants(OutputKind::Labels) {
        tasks.push(Task::Labels);
    }
    if wants(OutputKind::Npy) {
        tasks.push(Task::Npy);
    }
    if wants(OutputKind::Masks) {
        tasks.extend((0..n).map(Task::Mask));
    }
    if wants(OutputKind::Cutouts) {
        tasks.extend((0..n).map(Task::Cutout));
    }
    if wants(OutputKind::Overlay) {
        tasks.push(Task::Overlay);
    }
    if wants(OutputKind::Mean) {
        tasks.push(Task::Mean);
    }
    let level = cfg.common.compression;
    let map = seg.labels();
    let encode_one = |task: Task| -> Result<File> {
        Ok(match task {
            Task::Labels => (LABELS_PNG.into(), pixmeans_io::labels_png(map, level)?),
            Task::Npy => (LABELS_NPY.into(), pixmeans_io::labels_npy(map)),
            Task::Mask(i) => (names.mask(i), pixmeans_io::mask_png(map, i as u32, level)?),
            Task::Cutout(i) => (
                names.cutout(i),
                pixmeans_io::cutout_png(view, map, i as u32, level)?,
            ),
            Task::Overlay => (
                OVERLAY_PNG.into(),
                pixmeans_io::overlay_png(view, seg, level)?,
            ),
            Task::Mean => (MEAN_PNG.into(), pixmeans_io::mean_png(view, seg, level)?),
        })
    };
    let mut queue: Vec<(usize, Task)> = tasks.into_iter().enumerate().collect();
    queue.sort_by_key(|&(i, task)| (task.slowness(), i));
    let mut files: Vec<(usize, Result<File>)> = queue
        .into_iter()
        .par_bridge()
        .map(|(i, task)| (i, encode_one(task)))
        .collect();
    files.sort_by_key(|f| f.0);
    files.into_iter().map(|f| f.1).collect()
}

impl Task {
    /// Rank by how long the file takes to encode, slowest first (on the 12
    /// MP sunset.jpg at k = 8, one thread: the overlay 0.20 s, the means
    /// 0.11, the labels 0.07-0.09, each cutout about 0.05, each mask and
    /// the .npy 0.015).
    fn slowness(self) -> u8 {
        match self {
            Task::Overlay => 0,
            Task::Mean => 1,
            Task::Labels => 2,
            Task::Cutout(_) => 3,
            Task::Mask(_) => 4,
            Task::Npy => 5,
        }
    }
}

/// Refuses, before any work, a folder that already holds segment files,
/// unless `--force`.
fn refuse_to_clobber(dir: &Path, force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    if let Some(first) = segment_files_in(dir).first() {
        anyhow::bail!(
            "{} already holds segment files ({})\nhint: add --force to replace them",
            dir.display(),
            first.display()
        );
    }
    Ok(())
}

/// Creates `dir` if needed and writes the files into it. With `force`,
/// masks and cutouts of an earlier run that this one did not replace
/// (those of other colours) are removed, so that the masks, and the
/// cutouts, in the folder are one run's; a kind of file this run does not
/// write (`--only`, `--skip`) is left as it is. Every file is written to a
/// temporary name first and all are then renamed into place (and the stale
/// ones removed) as one step, which a stopped process leaves whole or not
/// begun. On failure, the files this call put in place and then the
/// folders it made are removed.
fn write_folder(dir: &Path, files: &[(String, Vec<u8>)], force: bool) -> Result<()> {
    let made = make_folders(dir)?;
    let staged: Result<Vec<_>, _> = files
        .iter()
        .map(|(name, bytes)| pixmeans_io::stage(&dir.join(name), bytes, force))
        .collect();
    let staged = match staged {
        Ok(staged) => staged,
        Err(e) => {
            remove_empty_folders(&made);
            return Err(e.into());
        }
    };
    pixmeans_io::commit_together(|| {
        let mut written = Vec::new();
        for file in staged {
            let path = file.path().to_path_buf();
            if let Err(e) = file.commit() {
                for path in &written {
                    drop(std::fs::remove_file(path));
                }
                remove_empty_folders(&made);
                return Err(e.into());
            }
            written.push(path);
        }
        if force {
            remove_stale(dir, &written)?;
        }
        Ok(())
    })
}

/// Removes the masks, and the cutouts, in `dir` that are not among
/// `written` when `written` has files of that kind.
fn remove_stale(dir: &Path, written: &[PathBuf]) -> Result<()> {
    let kinds_written: Vec<_> = written
        .iter()
        .filter_map(|p| cluster_file_kind(p))
        .collect();
    for stale in segment_files_in(dir) {
        let replaced = cluster_file_kind(&stale).is_some_and(|k| kinds_written.contains(&k));
        if replaced && !written.contains(&stale) {
            std::fs::remove_file(&stale)
                .with_context(|| format!("cannot remove {}", stale.display()))?;
        }
    }
    Ok(())
}
