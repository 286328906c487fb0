//! Writing output files atomically: readers of the path see the old file or
//! the complete new one, never a partial write.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

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
/// replaced file keeps the permissions it had.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> Result<u64, WriteError> {
    let io_error = |source| WriteError::Io {
        path: path.to_path_buf(),
        source: without_temp_path(source),
    };
    let exists = || WriteError::Exists {
        path: path.to_path_buf(),
    };
    // Fail before writing a large temporary file; the no-clobber rename
    // below still guards against the file appearing in the meantime.
    if !overwrite && path.symlink_metadata().is_ok() {
        return Err(exists());
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !dir.exists() {
        return Err(WriteError::MissingFolder {
            path: path.to_path_buf(),
            folder: dir.to_path_buf(),
        });
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".pixmeans-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // From here on, dropping `temp` on an error path deletes the file.
    let mut temp = builder.tempfile_in(dir).map_err(io_error)?;
    temp.write_all(bytes).map_err(io_error)?;
    // A replaced file keeps its permissions (a 0o640 file stays 0o640).
    if overwrite && let Ok(old) = std::fs::metadata(path) {
        temp.as_file()
            .set_permissions(old.permissions())
            .map_err(io_error)?;
    }
    let persisted = if overwrite {
        temp.persist(path)
    } else {
        temp.persist_noclobber(path)
    };
    match persisted {
        Ok(_) => Ok(bytes.len() as u64),
        Err(e) if !overwrite && e.error.kind() == io::ErrorKind::AlreadyExists => Err(exists()),
        Err(e) => Err(io_error(e.error)),
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
