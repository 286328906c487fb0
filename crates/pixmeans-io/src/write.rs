//! Writing output files atomically: readers of the path see the old file or
//! the complete new one, never a partial write.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::encode::WRITABLE_EXTENSIONS;

/// Why an output file could not be written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The extension names no format we write (or there is none).
    #[error("cannot tell the format of {} from its extension: expected {WRITABLE_EXTENSIONS}", path.display())]
    UnknownExtension {
        /// The output path.
        path: PathBuf,
    },
    /// The file exists and overwriting was not allowed.
    #[error("{} already exists: expected a new file name, or permission to overwrite", path.display())]
    Exists {
        /// The output path.
        path: PathBuf,
    },
    /// The folder the file would go in does not exist.
    #[error("cannot write {}: the folder {} does not exist", path.display(), folder.display())]
    MissingFolder {
        /// The output path.
        path: PathBuf,
        /// Its folder.
        folder: PathBuf,
    },
    /// A file stands where the path needs a folder (`photo.png/out.png`).
    #[error("cannot write {}: {} is a file, not a folder", path.display(), file.display())]
    FileForFolder {
        /// The output path.
        path: PathBuf,
        /// The file on the way to it.
        file: PathBuf,
    },
    /// The file could not be written, for example because its folder is
    /// read-only.
    #[error("cannot write {}", path.display())]
    Io {
        /// The output path.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
}

/// Writes `bytes` to `path` all at once and returns how many were written.
///
/// The bytes go to a temporary file in the same directory (named
/// `.pixmeans-*.tmp`), which is then renamed onto `path`. When `overwrite` is
/// false the rename refuses to replace an existing file, even one created
/// meanwhile, and the result is [`WriteError::Exists`]. On any error the
/// temporary file is removed and `path` is left as it was. The file is not
/// fsynced. On Unix a new file gets the usual `0o666` less the umask, as if
/// created with `File::create`, rather than the temporary file's `0o600`; a
/// replaced file keeps the permissions it had. If the process is stopped
/// meanwhile, [`stop_writing`] removes the temporary file.
///
/// Not to be called inside [`commit_together`]'s closure (it would wait on
/// itself); commit a [`Staged`] file there instead.
///
/// # Errors
///
/// - [`WriteError::Exists`] when `overwrite` is false and `path` exists (a
///   file, folder or link), or a file appears there before the rename;
/// - [`WriteError::MissingFolder`] or [`WriteError::FileForFolder`] when the
///   folder of `path` is not there (see [`check_folder`]);
/// - [`WriteError::Io`] when the temporary file cannot be created, written
///   or renamed onto `path`, or the replaced file's permissions cannot be
///   given to it.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<u64, WriteError> {
    let staged = stage(path, bytes, overwrite)?;
    commit_together(|| staged.commit())
}

/// A file written to its temporary name by [`stage`], to be renamed onto
/// its path by [`Staged::commit`]. Dropped uncommitted, the temporary file
/// is removed. It is closed once written, so a run can stage thousands
/// (segment's masks and cutouts at large k) within the open-file limit.
#[derive(Debug)]
pub struct Staged {
    temp: tempfile::TempPath,
    path: PathBuf,
    overwrite: bool,
    len: u64,
    _listed: Listed,
}

/// The first half of [`write_atomic`]: every check, and the bytes written to
/// a temporary file beside `path`, which is listed for [`stop_writing`] to
/// remove. `path` itself is not touched yet.
///
/// # Errors
///
/// - [`WriteError::Exists`] when `overwrite` is false and `path` exists (a
///   file, folder or link);
/// - [`WriteError::MissingFolder`] or [`WriteError::FileForFolder`] when the
///   folder of `path` is not there (see [`check_folder`]);
/// - [`WriteError::Io`] when the temporary file cannot be created or written,
///   or the replaced file's permissions cannot be given to it.
pub fn stage(path: &Path, bytes: &[u8], overwrite: bool) -> Result<Staged, WriteError> {
    let io_error = |source| WriteError::Io {
        path: path.to_path_buf(),
        source: without_temp_path(source),
    };
    // Fail before writing a large temporary file; the no-clobber rename
    // in `commit` still guards against the file appearing in the meantime.
    if !overwrite && path.symlink_metadata().is_ok() {
        return Err(WriteError::Exists {
            path: path.to_path_buf(),
        });
    }
    let dir = check_folder(path)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".pixmeans-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // From here on, dropping `temp` on an error path deletes the file.
    let (mut temp, listed) = Listed::create(&builder, dir).map_err(io_error)?;
    temp.write_all(bytes).map_err(io_error)?;
    // A replaced file keeps its permissions (a 0o640 file stays 0o640).
    if overwrite && let Ok(old) = std::fs::metadata(path) {
        temp.as_file()
            .set_permissions(old.permissions())
            .map_err(io_error)?;
    }
    Ok(Staged {
        temp: temp.into_temp_path(),
        path: path.to_path_buf(),
        overwrite,
        len: bytes.len() as u64,
        _listed: listed,
    })
}

/// Checks that the folder `path` goes in is there, and returns it: `.` for
/// a bare file name. The errors are [`WriteError::MissingFolder`] and
/// [`WriteError::FileForFolder`].
///
/// # Errors
///
/// When the folder `path` goes in is not a folder:
/// [`WriteError::FileForFolder`] when a file stands where it, or a folder
/// above it, should be (see [`file_in_the_way`]), else
/// [`WriteError::MissingFolder`].
pub fn check_folder(path: &Path) -> Result<&Path, WriteError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if dir.is_dir() {
        return Ok(dir);
    }
    let path = path.to_path_buf();
    Err(match file_in_the_way(dir) {
        Some(file) => WriteError::FileForFolder {
            path,
            file: file.to_path_buf(),
        },
        None => WriteError::MissingFolder {
            path,
            folder: dir.to_path_buf(),
        },
    })
}

/// The file that stands where `folder`, or a folder above it, should be
/// (`photo.png` for `photo.png/sub`): the nearest part of the path that
/// exists, when it is not a folder. `None` when that part is a folder, or
/// no part exists.
pub fn file_in_the_way(folder: &Path) -> Option<&Path> {
    folder
        .ancestors()
        .find(|a| !a.as_os_str().is_empty() && a.exists())
        .filter(|a| !a.is_dir())
}

impl Staged {
    /// The path the file goes to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the temporary file onto its path and returns the bytes
    /// written; the errors are [`write_atomic`]'s. Call it inside
    /// [`commit_together`], so that a stop waits for it.
    ///
    /// # Errors
    ///
    /// - [`WriteError::Exists`] when the file was staged without `overwrite`
    ///   and a file has appeared at its path since;
    /// - [`WriteError::Io`] when the rename fails.
    pub fn commit(self) -> Result<u64, WriteError> {
        let Staged {
            temp,
            path,
            overwrite,
            len,
            _listed,
        } = self;
        let persisted = if overwrite {
            temp.persist(&path)
        } else {
            temp.persist_noclobber(&path)
        };
        match persisted {
            Ok(()) => Ok(len),
            Err(e) if !overwrite && e.error.kind() == io::ErrorKind::AlreadyExists => {
                Err(WriteError::Exists { path })
            }
            Err(e) => Err(WriteError::Io {
                path,
                source: without_temp_path(e.error),
            }),
        }
    }
}

/// The temporary files being written, for [`stop_writing`] to remove.
static TEMPORARY: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Held while files are renamed into place, and by [`stop_writing`] until
/// the process ends.
static COMMITTING: Mutex<()> = Mutex::new(());

fn lock<T>(m: &'static Mutex<T>) -> MutexGuard<'static, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A temporary file's place in [`TEMPORARY`], given up when dropped.
#[derive(Debug)]
struct Listed(PathBuf);

impl Listed {
    /// Creates a temporary file in `dir` and lists it, as one step: after
    /// [`stop_writing`] no file is created.
    fn create(
        builder: &tempfile::Builder<'_, '_>,
        dir: &Path,
    ) -> io::Result<(tempfile::NamedTempFile, Listed)> {
        let mut listed = lock(&TEMPORARY);
        let temp = builder.tempfile_in(dir)?;
        let path = temp.path().to_path_buf();
        listed.push(path.clone());
        Ok((temp, Listed(path)))
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        let mut listed = lock(&TEMPORARY);
        if let Some(i) = listed.iter().position(|p| *p == self.0) {
            listed.swap_remove(i);
        }
    }
}

/// Runs `f`, which renames files into place ([`Staged::commit`]) and may
/// remove others, as one step that [`stop_writing`] waits for: a process
/// stopped meanwhile leaves all of it done or none of it.
pub fn commit_together<R>(f: impl FnOnce() -> R) -> R {
    let _committing = lock(&COMMITTING);
    f()
}

/// What [`stop_writing`] returns: while it lives, no file is committed and
/// no temporary file is made.
#[derive(Debug)]
pub struct WritingStopped {
    _committing: MutexGuard<'static, ()>,
    _temporary: MutexGuard<'static, Vec<PathBuf>>,
}

/// For a handler of Ctrl-C or of a request to terminate, before it ends the
/// process: waits for a [`commit_together`] under way to finish, then
/// removes every temporary file still being written, so that what the
/// process leaves is only whole files. Holding what it returns keeps any
/// other thread from committing or starting a file until the process
/// ends.
pub fn stop_writing() -> WritingStopped {
    let committing = lock(&COMMITTING);
    let mut temporary = lock(&TEMPORARY);
    for path in temporary.drain(..) {
        // A file being written can be removed: its bytes go nowhere.
        drop(std::fs::remove_file(path));
    }
    WritingStopped {
        _committing: committing,
        _temporary: temporary,
    }
}

/// The operating system's error without the temporary file's path, which
/// `tempfile` appends (as `... at path "..."`) and which means nothing to
/// the user: the error names the output already.
fn without_temp_path(e: io::Error) -> io::Error {
    if e.get_ref().is_none() {
        return e;
    }
    match e.to_string().split_once(" at path \"") {
        Some((os, _)) => io::Error::new(e.kind(), os.to_owned()),
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_a_new_file_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        assert_eq!(write_atomic(&path, b"hello", false).unwrap(), 5);
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        assert_eq!(entries(dir.path()), ["out.png"]);
    }

    /// Staged files hold no descriptor open: segment stages two files a
    /// cluster, and at k = 600 they outran the usual limit of 1024.
    #[cfg(target_os = "linux")]
    #[test]
    fn staged_files_are_closed() {
        let open = || std::fs::read_dir("/proc/self/fd").unwrap().count();
        let dir = tempfile::tempdir().unwrap();
        let before = open();
        let staged: Vec<Staged> = (0..300)
            .map(|i| stage(&dir.path().join(format!("{i}.png")), b"x", false).unwrap())
            .collect();
        // Other tests' threads may hold a few files meanwhile.
        assert!(open() < before + 100, "{before} -> {}", open());
        commit_together(|| staged.into_iter().try_for_each(|s| s.commit().map(drop))).unwrap();
        assert_eq!(entries(dir.path()).len(), 300);
    }

    #[test]
    fn a_staged_file_waits_under_a_temporary_name_until_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        let staged = stage(&path, b"hello", false).unwrap();
        assert_eq!(staged.path(), path);
        let names = entries(dir.path());
        assert_eq!(names.len(), 1);
        assert!(
            names[0].starts_with(".pixmeans-")
                && Path::new(&names[0]).extension() == Some("tmp".as_ref()),
            "{names:?}"
        );
        assert!(lock(&TEMPORARY).iter().any(|p| p.ends_with(&names[0])));
        assert_eq!(commit_together(|| staged.commit()).unwrap(), 5);
        assert_eq!(entries(dir.path()), ["out.png"]);
        assert!(!lock(&TEMPORARY).iter().any(|p| p.starts_with(dir.path())));

        // Dropped uncommitted, it leaves nothing; committed onto a file that
        // appeared meanwhile, it refuses.
        drop(stage(&dir.path().join("b.png"), b"x", false).unwrap());
        let staged = stage(&dir.path().join("c.png"), b"x", false).unwrap();
        std::fs::write(dir.path().join("c.png"), b"old").unwrap();
        assert!(matches!(staged.commit(), Err(WriteError::Exists { .. })));
        assert_eq!(entries(dir.path()), ["c.png", "out.png"]);
        assert_eq!(std::fs::read(dir.path().join("c.png")).unwrap(), b"old");
        assert!(!lock(&TEMPORARY).iter().any(|p| p.starts_with(dir.path())));
    }

    #[test]
    fn refuses_to_clobber_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        std::fs::write(&path, b"old").unwrap();

        let err = write_atomic(&path, b"new", false).unwrap_err();
        assert!(matches!(&err, WriteError::Exists { path: p } if p == &path));
        assert!(err.to_string().contains("out.png"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(entries(dir.path()), ["out.png"]);

        assert_eq!(write_atomic(&path, b"newer", true).unwrap(), 5);
        assert_eq!(std::fs::read(&path).unwrap(), b"newer");
        assert_eq!(entries(dir.path()), ["out.png"]);
    }

    #[test]
    fn the_no_clobber_rename_itself_refuses_an_existing_file() {
        // Bypasses the early check, as if the file appeared after it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        std::fs::write(&path, b"old").unwrap();
        let temp = tempfile::NamedTempFile::new_in(dir.path()).unwrap();
        let e = temp.persist_noclobber(&path).unwrap_err();
        assert_eq!(e.error.kind(), io::ErrorKind::AlreadyExists);
        drop(e);
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(entries(dir.path()), ["out.png"]);
    }

    #[test]
    fn a_missing_directory_fails_naming_the_output_path_and_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("missing");
        let path = folder.join("out.png");
        let err = write_atomic(&path, b"x", true).unwrap_err();
        assert!(
            matches!(&err, WriteError::MissingFolder { path: p, folder: f } if p == &path && f == &folder)
        );
        let message = err.to_string();
        assert!(message.contains(&*path.to_string_lossy()), "{message}");
        assert!(message.ends_with("missing does not exist"), "{message}");
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn a_file_where_a_folder_should_be_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("photo.png");
        std::fs::write(&file, b"old").unwrap();
        for path in [file.join("out.png"), file.join("sub").join("out.png")] {
            let err = write_atomic(&path, b"x", true).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "cannot write {}: {} is a file, not a folder",
                    path.display(),
                    file.display()
                )
            );
        }
        assert_eq!(std::fs::read(&file).unwrap(), b"old");
        assert_eq!(entries(dir.path()), ["photo.png"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_folder_fails_with_the_systems_cause_without_the_temporary_name() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("ro");
        std::fs::create_dir(&folder).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
        let path = folder.join("out.png");
        let result = write_atomic(&path, b"x", true);
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Root may write anyway; then there is nothing to check.
        if let Err(err) = result {
            assert!(matches!(&err, WriteError::Io { path: p, .. } if p == &path));
            let cause = std::error::Error::source(&err).unwrap().to_string();
            assert!(
                !cause.contains(".pixmeans-") && !cause.contains("at path"),
                "{cause}"
            );
        }
        assert!(entries(&folder).iter().all(|e| e == "out.png"));
    }

    #[test]
    fn overwriting_a_directory_fails_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("taken");
        std::fs::create_dir(&path).unwrap();
        assert!(matches!(
            write_atomic(&path, b"x", true),
            Err(WriteError::Io { .. })
        ));
        assert_eq!(entries(dir.path()), ["taken"]);
    }

    #[cfg(unix)]
    #[test]
    fn the_new_file_gets_the_permissions_of_an_ordinary_new_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode();
        let ordinary = dir.path().join("ordinary");
        std::fs::File::create(&ordinary).unwrap();
        let path = dir.path().join("out.gif");
        write_atomic(&path, b"x", false).unwrap();
        assert_eq!(
            format!("{:o}", mode(&path)),
            format!("{:o}", mode(&ordinary))
        );
        // Replaced, it keeps the permissions it was given.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"y", true).unwrap();
        assert_eq!(format!("{:o}", mode(&path) & 0o777), "640");
        assert_eq!(std::fs::read(&path).unwrap(), b"y");
    }
}
