//! Files in the output folder: each written atomically under a temporary name that says which
//! process writes it, and the temporary files of dead runs removed before a run starts. Also the one
//! way local files are opened for reading or appending: regular files only.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _};
use std::path::Path;
use std::time::Duration;

use crate::failure::Failure;

/// A temporary file older than this is a leftover, whoever wrote it (saving one file takes seconds).
const STALE_AFTER: Duration = Duration::from_secs(10 * 60);

/// The name of a temporary file for `name` written by this process: `.{name}.{pid}-{random}.tmp`.
/// The pid lets a later run tell a dead run's leftovers from a live run's work ([`remove_stale_temps`]).
pub fn temp_name(name: &str) -> String {
    format!(".{name}.{}-{:08x}.tmp", std::process::id(), fastrand::u32(..))
}

/// `{base}.{extension}`, or when `taken` says that name is used, the first free `{base}-2.{extension}`,
/// `{base}-3.{extension}`, …: an answer that repeats an index must not overwrite a file it already gave.
pub fn distinct_name(base: &str, extension: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = format!("{base}.{extension}");
    let mut n = 2u32;
    while taken(&name) {
        name = format!("{base}-{n}.{extension}");
        n += 1;
    }
    name
}

/// Saves `bytes` as `dir/name` atomically: written to a temporary file in `dir`, flushed to disk and
/// renamed over the final name (no partial file under the final name, ever).
pub fn save_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write as _;
    let plain = Path::new(name).file_name().is_some_and(|n| n == name) && name != "." && name != "..";
    if !plain || name.is_empty() {
        return Err(Failure::local(format!("cannot save {name:?}: not a plain file name")));
    }
    std::fs::create_dir_all(dir).map_err(|e| Failure::write(dir, &e))?;
    let temp = dir.join(temp_name(name));
    let target = dir.join(name);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, &target)
    })();
    result.map_err(|error| {
        let _ = std::fs::remove_file(&temp);
        Failure::write(&target, &error)
    })
}

/// Whether [`open_regular`] follows a symbolic link at the path's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Follow it (a file the user names: a link to an image is that image).
    Follow,
    /// Refuse it (a file of the output folder: a link there could make an append land anywhere).
    Refuse,
}

/// Opens `path` with `options`, refusing what is not a regular file: a FIFO (opening or reading it can
/// wait forever), a device (`/dev/zero` never ends), a socket, a directory, and with [`Links::Refuse`]
/// a symbolic link. The open itself is non-blocking, so a FIFO without a writer cannot hang it; the
/// type is checked on the opened descriptor, so a file swapped in meanwhile is caught too.
pub fn open_regular(path: &Path, options: &mut OpenOptions, links: Links) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        let no_follow = if links == Links::Refuse { libc::O_NOFOLLOW } else { 0 };
        options.custom_flags(libc::O_NONBLOCK | no_follow);
    }
    if links == Links::Refuse && std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(symbolic_link());
    }
    let file = options.open(path).map_err(|error| {
        #[cfg(unix)]
        if error.raw_os_error() == Some(libc::ELOOP) && links == Links::Refuse {
            return symbolic_link();
        }
        error
    })?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {}, not a regular file", describe(kind)),
        ));
    }
    // `O_NONBLOCK` stays set: reads and writes of regular files ignore it.
    Ok(file)
}

fn symbolic_link() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "it is a symbolic link, which seedream does not follow there")
}

/// A file type in words, for "it is …, not a regular file".
fn describe(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_dir() { "a directory" } else { "something else" }
}

/// Reads all of `file`, or fails with [`io::ErrorKind::FileTooLarge`] as soon as it holds more than
/// `limit` bytes (it may grow after its size was checked).
pub fn read_at_most(file: File, limit: u64) -> io::Result<Vec<u8>> {
    let expected = file.metadata().map(|m| m.len()).unwrap_or(0).min(limit);
    let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(io::ErrorKind::FileTooLarge, format!("it holds more than {limit} bytes")));
    }
    Ok(bytes)
}

/// Makes sure `dir` exists and takes files, before any paid request is sent; removes the temporary
/// files dead runs left there.
pub fn prepare_out_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|e| Failure::write(dir, &e))?;
    remove_stale_temps(dir);
    let probe = dir.join(temp_name("seedream-probe"));
    std::fs::write(&probe, b"").map_err(|e| Failure::write(dir, &e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Removes temporary files (`.….tmp`) that no live run is writing: those whose writer's pid is gone,
/// and any older than ten minutes. Errors are ignored (another run may remove the same file).
pub fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') || !name.ends_with(".tmp") {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        let dead = writer_pid(&name).is_some_and(|pid| !is_alive(pid));
        if old || dead {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The pid in a temporary name made by [`temp_name`]: `.{name}.{pid}-{random}.tmp`.
fn writer_pid(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(".tmp")?;
    let (_, tail) = stem.rsplit_once('.')?;
    let (pid, random) = tail.split_once('-')?;
    (random.len() == 8 && random.bytes().all(|b| b.is_ascii_hexdigit())).then_some(())?;
    pid.parse().ok()
}

/// Whether a process with this pid runs (Linux: `/proc`; elsewhere assumed alive, and only age counts).
fn is_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("seedream-files-{name}-{:x}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn stale_temps_of_dead_writers_go_and_live_ones_stay() {
        let dir = scratch("stale");
        let mine = temp_name("a.jpg");
        std::fs::write(dir.join(&mine), b"x").unwrap();
        // pid 4194305 is above Linux's largest pid: never alive.
        let dead = ".b.jpg.4194305-0badcafe.tmp";
        std::fs::write(dir.join(dead), b"x").unwrap();
        std::fs::write(dir.join("keep.jpg"), b"x").unwrap();
        assert_eq!(writer_pid(dead), Some(4_194_305));
        assert_eq!(writer_pid(".a.jpg.0123456789abcdef.tmp"), None);
        remove_stale_temps(&dir);
        assert!(dir.join(&mine).exists());
        assert_eq!(dir.join(dead).exists(), !Path::new("/proc/self").exists());
        assert!(dir.join("keep.jpg").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
