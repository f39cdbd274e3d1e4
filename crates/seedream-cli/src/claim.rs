//! Claims on request keys, so that two runs on one output folder (a cron job that overlaps the last
//! one, two terminals) never buy the same line twice: before a batch line is sent, its key's file
//! under `.claims/` is locked with `flock`, and the lock is held until the line's result is in the
//! journal. The kernel drops the lock when the process ends, however it ends, so a killed run never
//! blocks the next one; the file keeps the holder's pid, for messages only.
//!
//! The files stay (an empty-ish file per key): removing one while another process has it open would
//! let two processes lock two different files of the same name.

use std::fs::File;
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use crate::failure::Failure;

/// The folder of claim files inside the output directory.
pub const CLAIMS_DIR: &str = ".claims";

/// A held claim: the key is ours until this is dropped.
#[derive(Debug)]
pub struct Claim {
    _file: File,
}

/// What trying to claim a key found.
#[derive(Debug)]
pub enum Claimed {
    /// The key is ours.
    Ours(Claim),
    /// Another process holds it (its pid, when it wrote one).
    Elsewhere(Option<u32>),
}

/// Tries to claim `key` in `dir` without waiting.
pub fn try_claim(dir: &Path, key: &str) -> Result<Claimed, Failure> {
    let folder = dir.join(CLAIMS_DIR);
    std::fs::create_dir_all(&folder).map_err(|e| Failure::write(&folder, &e))?;
    let path: PathBuf = folder.join(key);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Failure::write(&path, &e))?;
    if !lock(&file).map_err(|e| Failure::write(&path, &e))? {
        let mut text = String::new();
        let _ = file.read_to_string(&mut text);
        return Ok(Claimed::Elsewhere(text.trim().parse().ok()));
    }
    // For the other run's message; the lock, not this text, is the claim.
    let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| write!(file, "{}", std::process::id()));
    Ok(Claimed::Ours(Claim { _file: file }))
}

/// Locks `file` exclusively if no one else has it: `Ok(false)` when another process does.
#[cfg(unix)]
fn lock(file: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd as _;
    // SAFETY: flock on a descriptor this `File` owns and keeps open.
    let done = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if done == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    if error.raw_os_error() == Some(libc::EWOULDBLOCK) { Ok(false) } else { Err(error) }
}

/// Without flock, every claim is granted (runs are not protected from each other).
#[cfg(not(unix))]
fn lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_exclusive_until_dropped() {
        let dir = std::env::temp_dir().join(format!("seedream-claim-{:x}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let Claimed::Ours(first) = try_claim(&dir, "k1").unwrap() else { panic!("free key refused") };
        // flock is per open file description: a second open in this process is refused too.
        match try_claim(&dir, "k1").unwrap() {
            Claimed::Elsewhere(pid) => assert_eq!(pid, Some(std::process::id())),
            Claimed::Ours(_) => panic!("claimed twice"),
        }
        assert!(matches!(try_claim(&dir, "k2").unwrap(), Claimed::Ours(_)));
        drop(first);
        assert!(matches!(try_claim(&dir, "k1").unwrap(), Claimed::Ours(_)));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
