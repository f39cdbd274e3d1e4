//! `journal.jsonl`: the output directory's durable record. One JSON object per line, one line per finished
//! image (generate, edit), batch line or run, appended with a single `write()` on an `O_APPEND`
//! descriptor and `fsync`ed before the result is reported. Appends from any number of processes land
//! whole and in some order (local file systems serialize `O_APPEND` writes), and a kill -9 loses at most
//! the record being written, never one already reported.
//!
//! `manifest.json` is the readable view, folded from the journal and written atomically (temporary
//! file, then rename). Parallel rebuilds need no lock: after renaming, a rebuild checks that the journal
//! has not grown since it was read, and goes again if it has, so the last rename always holds every
//! record (an append is always followed by its writer's own rebuild).

use std::collections::{BTreeMap, HashMap};
use std::fs::OpenOptions;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::failure::Failure;
use crate::files::{Links, open_regular};
use crate::manifest::{BatchSection, LineRecord, Manifest, RunRecord, SavedImage, Status};

/// The journal's file name inside the output directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// Rebuilds give up converging after this many rounds (each round is one read and one rename).
const REBUILD_ROUNDS: usize = 50;

/// One journal line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Record {
    /// The `manifest.json` found when the journal was started (written by an older version).
    Import {
        /// The manifest as it was.
        manifest: Box<Manifest>,
    },
    /// One image of a generate or edit run, saved; the run's record follows when it ends.
    Image {
        /// The run's id.
        run: String,
        /// `generate` or `edit`.
        command: String,
        /// When the run started.
        started_at: String,
        /// The service label.
        service: String,
        /// The request key.
        key: String,
        /// Made by an emulator (the embedded one, or one whose answer said so).
        #[serde(default)]
        synthetic: bool,
        /// The image.
        image: Box<SavedImage>,
    },
    /// A generate or edit run, ended.
    Run(Box<RunRecord>),
    /// A batch file's lines, in order, by key: which results `batch.lines` shows.
    Batch {
        /// The JSONL file, as given.
        source: String,
        /// When the batch started.
        started_at: String,
        /// `[line number, key]` for every non-blank line.
        lines: Vec<(u64, String)>,
    },
    /// A batch line, ended.
    Line {
        /// Its line number in the file it came from.
        line: u64,
        /// The result (with its key).
        record: Box<LineRecord>,
    },
}

/// Appends `record` durably: one `write()` of the whole line with `O_APPEND`, then `fsync`. The
/// directory is synced first, so that the image files renamed into it before are on disk too.
pub fn append(dir: &Path, record: &Record) -> Result<(), Failure> {
    let mut line =
        serde_json::to_vec(record).map_err(|e| Failure::local(format!("cannot encode a journal record: {e}")))?;
    line.push(b'\n');
    let path = dir.join(JOURNAL_FILE);
    sync_dir(dir);
    let result = (|| {
        let mut file = open_for_append(&path)?;
        // A torn last line (a full disk, a power loss) would swallow this record: start a fresh one.
        if ends_torn(&mut file)? {
            line.insert(0, b'\n');
        }
        let written = file.write(&line)?;
        if written < line.len() {
            // Only on a full disk or a signal; the rest follows (the line may then interleave, and a
            // reader skips what does not parse).
            file.write_all(&line[written..])?;
        }
        file.sync_data()
    })();
    result.map_err(|e| Failure::write(&path, &e))
}

/// The journal, opened to append (created when missing): a regular file, never through a link.
fn open_for_append(path: &Path) -> std::io::Result<std::fs::File> {
    open_regular(path, OpenOptions::new().read(true).create(true).append(true), Links::Refuse)
}

/// Whether the journal's last byte is not a newline: the end of a record whose write was cut short.
fn ends_torn(file: &mut std::fs::File) -> std::io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::End(-1))?;
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Reads every whole record, and the journal's length up to the last whole line. Lines that do not
/// parse (a torn write after a crash, a future record type) are skipped.
pub fn read(dir: &Path) -> Result<(Vec<Record>, u64), Failure> {
    let path = dir.join(JOURNAL_FILE);
    let mut bytes = Vec::new();
    match open_regular(&path, OpenOptions::new().read(true), Links::Refuse) {
        Ok(mut file) => {
            file.read_to_end(&mut bytes).map_err(|e| Failure::read("the journal", &path, &e))?;
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(error) => return Err(Failure::read("the journal", &path, &error)),
    }
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |at| at + 1);
    let records = bytes[..whole]
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect();
    Ok((records, whole as u64))
}

/// Opens the output directory's records, before anything is sent: refuses a `manifest.json` that is
/// not a manifest (it is never overwritten), starts the journal from an older version's manifest when
/// there is no journal yet, and checks that the journal can be appended to (a regular file, not a
/// link), so that a result is never paid for and then left unrecorded.
pub fn open(dir: &Path) -> Result<(), Failure> {
    let manifest = Manifest::load(dir)?;
    let path = dir.join(JOURNAL_FILE);
    if !manifest.runs.is_empty() || manifest.batch.is_some() {
        // Only the process that creates the journal imports the old manifest.
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(_) => return append(dir, &Record::Import { manifest: Box::new(manifest) }),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(Failure::write(&path, &error)),
        }
    }
    open_for_append(&path).map(drop).map_err(|e| Failure::write(&path, &e))
}

/// The journal folded: the manifest view and what resume needs.
#[derive(Debug, Default)]
pub struct Folded {
    /// Runs, oldest start first; a run with images but no end record shows as interrupted.
    pub runs: Vec<RunRecord>,
    /// Every batch file run here, by source, each with its latest run's lines' keys; the file run
    /// last is last.
    pub batches: Vec<(String, Vec<(u64, String)>)>,
    /// Per key: the latest complete (succeeded) line result.
    pub complete: HashMap<String, LineRecord>,
    /// Per key: the latest line result of any status.
    pub latest: HashMap<String, LineRecord>,
    /// Batch sections of an imported manifest (no keys): each shown until its file runs here.
    pub imported_batches: Vec<BatchSection>,
    /// Fields of an imported manifest this version does not know.
    pub extra: serde_json::Map<String, Value>,
}

impl Folded {
    /// Folds records in journal order.
    pub fn of(records: Vec<Record>) -> Self {
        let mut folded = Folded::default();
        let mut ended: HashMap<String, usize> = HashMap::new();
        let mut open: BTreeMap<String, usize> = BTreeMap::new();
        for record in records {
            match record {
                Record::Import { manifest } => {
                    let manifest = *manifest;
                    for run in manifest.runs {
                        ended.insert(run.id.clone(), folded.runs.len());
                        folded.runs.push(run);
                    }
                    folded.imported_batches = manifest.earlier_batches;
                    folded.imported_batches.extend(manifest.batch);
                    folded.extra = manifest.extra;
                }
                Record::Image { run, command, started_at, service, key, synthetic, image } => {
                    if ended.contains_key(&run) {
                        continue;
                    }
                    let at = *open.entry(run.clone()).or_insert_with(|| {
                        let mut record = RunRecord {
                            id: run.clone(),
                            command,
                            started_at,
                            service,
                            key,
                            synthetic,
                            ..RunRecord::default()
                        };
                        record.outcome.status = Status::Interrupted;
                        folded.runs.push(record);
                        folded.runs.len() - 1
                    });
                    folded.runs[at].outcome.images.push(*image);
                }
                Record::Run(run) => {
                    let run = *run;
                    match open.remove(&run.id).or_else(|| ended.get(&run.id).copied()) {
                        Some(at) => {
                            ended.insert(run.id.clone(), at);
                            folded.runs[at] = run;
                        }
                        None => {
                            ended.insert(run.id.clone(), folded.runs.len());
                            folded.runs.push(run);
                        }
                    }
                }
                Record::Batch { source, lines, .. } => {
                    folded.batches.retain(|(earlier, _)| *earlier != source);
                    folded.batches.push((source, lines));
                }
                Record::Line { record, .. } => {
                    let record = *record;
                    if record.outcome.status == Status::Succeeded {
                        folded.complete.insert(record.key.clone(), record.clone());
                    }
                    folded.latest.insert(record.key.clone(), record);
                }
            }
        }
        // Stable: runs that started at the same second keep their journal order.
        folded.runs.sort_by(|a, b| a.started_at.cmp(&b.started_at));
        folded
    }

    /// Whether `key` has a complete result whose files are all still in `dir`.
    pub fn is_done(&self, key: &str, dir: &Path) -> bool {
        self.complete
            .get(key)
            .is_some_and(|record| record.outcome.images.iter().all(|image| dir.join(&image.file).is_file()))
    }

    /// The manifest view: every run, and each batch file's lines by number (the file run last in
    /// `batch`, the others in `earlier_batches`), each line showing its key's complete result, else its
    /// latest one (lines never finished are left out).
    pub fn manifest(&self) -> Manifest {
        let mut manifest = Manifest { runs: self.runs.clone(), extra: self.extra.clone(), ..Manifest::default() };
        let mut sections: Vec<BatchSection> = Vec::new();
        // An older version's batches stay in view, unless their file has run here since.
        for imported in &self.imported_batches {
            if !self.batches.iter().any(|(source, _)| *source == imported.source) {
                sections.push(imported.clone());
            }
        }
        sections.extend(self.batches.iter().map(|(source, lines)| self.section(source, lines)));
        manifest.batch = sections.pop();
        manifest.earlier_batches = sections;
        manifest
    }

    /// One batch file's section: its lines by number, each with its key's result.
    fn section(&self, source: &str, lines: &[(u64, String)]) -> BatchSection {
        let mut section = BatchSection { source: source.to_owned(), ..BatchSection::default() };
        for (number, key) in lines {
            if let Some(record) = self.complete.get(key).or_else(|| self.latest.get(key)) {
                section.lines.insert(*number, record.clone());
            }
        }
        section
    }
}

/// Reads and folds the journal.
pub fn fold(dir: &Path) -> Result<Folded, Failure> {
    read(dir).map(|(records, _)| Folded::of(records))
}

/// Rebuilds `manifest.json` from the journal, atomically, until it holds every record appended so far
/// (see the module's comment). Returns the manifest written.
pub fn rebuild(dir: &Path) -> Result<Manifest, Failure> {
    let path = dir.join(JOURNAL_FILE);
    let mut last = Manifest::default();
    for _ in 0..REBUILD_ROUNDS {
        let (records, length) = read(dir)?;
        last = Folded::of(records).manifest();
        last.save(dir)?;
        let now = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        // Bytes after the last newline are a record being written; its writer rebuilds after it.
        if now <= length || !grew_by_whole_lines(&path, length) {
            return Ok(last);
        }
    }
    Ok(last)
}

/// Whether the journal holds a whole line after `length` bytes.
fn grew_by_whole_lines(path: &Path, length: u64) -> bool {
    let Ok(mut file) = open_regular(path, OpenOptions::new().read(true), Links::Refuse) else { return false };
    if file.seek(SeekFrom::Start(length)).is_err() {
        return false;
    }
    let mut rest = Vec::new();
    file.read_to_end(&mut rest).is_ok() && rest.contains(&b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Outcome;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("seedream-journal-{name}-{:x}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn line(key: &str, status: Status, file: &str) -> Record {
        let mut outcome = Outcome::empty();
        outcome.images.push(SavedImage { index: 0, file: file.into(), bytes: 1, ..SavedImage::default() });
        outcome.status = status;
        Record::Line { line: 1, record: Box::new(LineRecord { key: key.into(), outcome, ..LineRecord::default() }) }
    }

    #[test]
    fn records_round_trip_and_a_torn_tail_is_skipped() {
        let dir = scratch("roundtrip");
        append(&dir, &line("k1", Status::Succeeded, "a.jpg")).unwrap();
        append(&dir, &Record::Batch { source: "f".into(), started_at: "t".into(), lines: vec![(3, "k1".into())] })
            .unwrap();
        let mut file = std::fs::OpenOptions::new().append(true).open(dir.join(JOURNAL_FILE)).unwrap();
        file.write_all(b"{\"type\":\"line\",\"li").unwrap();
        let (records, length) = read(&dir).unwrap();
        assert_eq!(records.len(), 2);
        assert!(length < std::fs::metadata(dir.join(JOURNAL_FILE)).unwrap().len());
        let folded = Folded::of(records);
        assert!(!folded.is_done("k1", &dir), "its file is missing");
        std::fs::write(dir.join("a.jpg"), b"x").unwrap();
        assert!(folded.is_done("k1", &dir));
        let manifest = folded.manifest();
        assert_eq!(manifest.batch.unwrap().lines[&3].key, "k1");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_torn_tail_does_not_swallow_the_next_record() {
        let dir = scratch("torn");
        append(&dir, &line("k1", Status::Succeeded, "a.jpg")).unwrap();
        let mut file = std::fs::OpenOptions::new().append(true).open(dir.join(JOURNAL_FILE)).unwrap();
        file.write_all(b"{\"type\":\"line\",\"li").unwrap();
        append(&dir, &line("k2", Status::Succeeded, "b.jpg")).unwrap();
        let (records, _) = read(&dir).unwrap();
        let folded = Folded::of(records);
        assert!(folded.complete.contains_key("k1") && folded.complete.contains_key("k2"), "{folded:?}");
        // A journal that ends whole gets no blank line.
        let before = std::fs::metadata(dir.join(JOURNAL_FILE)).unwrap().len();
        append(&dir, &line("k3", Status::Succeeded, "c.jpg")).unwrap();
        let text = std::fs::read_to_string(dir.join(JOURNAL_FILE)).unwrap();
        assert!(!text[before as usize..].starts_with('\n'));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_journal_that_is_a_link_is_refused_and_its_target_left_alone() {
        let dir = scratch("link");
        let target = dir.join("elsewhere.txt");
        std::fs::write(&target, b"keep\n").unwrap();
        std::os::unix::fs::symlink(&target, dir.join(JOURNAL_FILE)).unwrap();
        for failure in [open(&dir).unwrap_err(), append(&dir, &line("k", Status::Succeeded, "a.jpg")).unwrap_err()] {
            assert!(failure.message.contains("journal.jsonl: it is a symbolic link"), "{failure}");
        }
        assert!(read(&dir).unwrap_err().message.contains("symbolic link"));
        assert_eq!(std::fs::read(&target).unwrap(), b"keep\n");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn opening_checks_that_the_journal_takes_appends() {
        let dir = scratch("unwritable");
        std::fs::create_dir(dir.join(JOURNAL_FILE)).unwrap();
        let failure = open(&dir).unwrap_err();
        assert!(failure.message.contains("cannot write to") && failure.message.contains(JOURNAL_FILE), "{failure}");
        std::fs::remove_dir_all(dir).unwrap();
        let dir = scratch("fresh");
        open(&dir).unwrap();
        assert!(dir.join(JOURNAL_FILE).is_file());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn every_batch_file_run_here_stays_in_view() {
        let batch = |source: &str, key: &str| Record::Batch {
            source: source.into(),
            started_at: "t".into(),
            lines: vec![(1, key.into())],
        };
        let records = vec![
            batch("a.jsonl", "ka"),
            line("ka", Status::Succeeded, "a.jpg"),
            batch("b.jsonl", "kb"),
            line("kb", Status::Succeeded, "b.jpg"),
            batch("c.jsonl", "kc"),
            line("kc", Status::Failed, "c.jpg"),
            // a.jsonl again (resumed): it is the file run last, and shows once.
            batch("a.jsonl", "ka"),
        ];
        let manifest = Folded::of(records).manifest();
        let latest = manifest.batch.unwrap();
        assert_eq!((latest.source.as_str(), latest.lines[&1].key.as_str()), ("a.jsonl", "ka"));
        let earlier: Vec<(&str, &str)> =
            manifest.earlier_batches.iter().map(|b| (b.source.as_str(), b.lines[&1].key.as_str())).collect();
        assert_eq!(earlier, [("b.jsonl", "kb"), ("c.jsonl", "kc")]);
    }

    #[test]
    fn a_run_without_its_end_shows_its_images_as_interrupted() {
        let image = |file: &str| Record::Image {
            run: "r".into(),
            command: "generate".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            service: "embedded emulator".into(),
            key: "k".into(),
            synthetic: true,
            image: Box::new(SavedImage { file: file.into(), ..SavedImage::default() }),
        };
        let folded = Folded::of(vec![image("r-0.jpg"), image("r-1.jpg")]);
        assert_eq!(folded.runs.len(), 1);
        assert_eq!(folded.runs[0].outcome.status, Status::Interrupted);
        assert_eq!(folded.runs[0].outcome.images.len(), 2);
        assert!(folded.runs[0].synthetic);
        let end = Record::Run(Box::new(RunRecord { id: "r".into(), ..RunRecord::default() }));
        let folded = Folded::of(vec![image("r-0.jpg"), end]);
        assert_eq!(folded.runs.len(), 1);
        assert_eq!(folded.runs[0].outcome.status, Status::Failed);
    }
}
