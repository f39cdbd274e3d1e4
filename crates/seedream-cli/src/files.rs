//! Files in the output folder: each written atomically under a temporary name that says which
//! process writes it, and the temporary files of dead runs removed before a run starts.

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
