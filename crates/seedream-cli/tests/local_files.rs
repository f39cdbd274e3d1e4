//! End-to-end: the local files the commands read and write. Input images are regular files of bounded
//! size (a FIFO, a device or an oversized file is refused before it is read, by every command that
//! reads one); the journal is a regular file, never a link, and checked to take appends before anything
//! is paid for; several batch files run into one folder all stay in its manifest and page. Every run is
//! bounded (common::RUN_LIMIT).

mod common;

use std::path::Path;
use std::process::Command;

use common::{Scratch, Standalone, manifest, png_header, run};
use seedream_emulator::EmulatorConfig;

/// A FIFO named `name` in `dir` (nothing ever writes to it).
fn fifo(dir: &Scratch, name: &str) -> String {
    let status = Command::new("mkfifo").arg(dir.join(name)).status().expect("mkfifo runs");
    assert!(status.success());
    name.to_owned()
}

/// A PNG header followed by zeros, `len` bytes long (sparse: no disk space taken).
fn large_png(dir: &Scratch, name: &str, len: u64) -> String {
    let file = std::fs::File::create(dir.join(name)).unwrap();
    std::io::Write::write_all(&mut &file, &png_header(2048, 2048)).unwrap();
    file.set_len(len).unwrap();
    name.to_owned()
}

/// The largest input image any model takes, from the catalog.
fn largest_input() -> u64 {
    seedream_types::catalog::families().iter().map(|family| family.input.max_bytes as u64).max().unwrap()
}

#[cfg(unix)]
#[test]
fn images_that_are_not_regular_files_or_too_large_are_refused_before_reading() {
    let dir = Scratch::new("local-images");
    let pipe = fifo(&dir, "pipe.png");
    let large = large_png(&dir, "large.png", largest_input() + 1);
    let too_large = format!("it is larger than {} MB, the largest image any model takes", largest_input() >> 20);
    let cases: [(&str, &str); 3] = [
        ("/dev/zero", "it is a device, not a regular file"),
        (&pipe, "it is a FIFO (named pipe), not a regular file"),
        (&large, &too_large),
    ];
    for (image, rule) in cases {
        // --no-validate: the read itself must refuse, not the model's rules after it.
        for args in [
            vec!["generate", "-p", "x", "--image", image, "--dry-run", "--no-validate"],
            vec!["edit", "-p", "x", "--image", image, "--dry-run", "--no-validate"],
        ] {
            let out = run(&dir.path, &args);
            assert_eq!(out.code(), 1, "{args:?}\n{out}");
            assert!(out.stderr.contains(image) && out.stderr.contains(rule), "{args:?}\n{out}");
        }
        let line = format!(r#"{{"prompt": "x", "image": "{image}"}}"#);
        dir.write("jobs.jsonl", format!("{line}\n"));
        let out = run(&dir.path, &["validate", "jobs.jsonl"]);
        assert_eq!(out.code(), 2, "{out}");
        assert!(out.stdout.contains(rule), "{out}");
        let out = run(&dir.path, &["batch", "jobs.jsonl", "--out", "out", "--json"]);
        assert_ne!(out.code(), 0, "{out}");
        assert!(out.stdout.contains(rule), "{out}");
        let out = run(&dir.path, &["inspect", image]);
        assert_eq!(out.code(), 1, "{out}");
        assert!(out.stderr.contains(rule) || out.stdout.contains(rule), "{out}");
    }
    // Exactly the limit is read (and then judged by the model's rules).
    let fits = large_png(&dir, "fits.png", largest_input());
    let out = run(&dir.path, &["generate", "-p", "x", "--image", &fits, "--dry-run", "--no-validate"]);
    assert_eq!(out.code(), 0, "{out}");
}

#[test]
fn batches_of_different_files_into_one_folder_all_stay_in_view() {
    let dir = Scratch::new("two-batches");
    let line = |prompt: &str| format!(r#"{{"prompt": "{prompt}", "size": "1K", "response_format": "b64_json"}}"#);
    dir.write("a.jsonl", format!("{}\n{}\n", line("alpha one"), line("alpha two")));
    dir.write("b.jsonl", format!("{}\n", line("beta one")));
    for file in ["a.jsonl", "b.jsonl"] {
        let out = run(&dir.path, &["batch", file, "--out", "out", "--json"]);
        assert_eq!(out.code(), 0, "{out}");
    }
    let view = manifest(&dir.join("out"));
    assert_eq!(view["batch"]["source"], "b.jsonl");
    assert_eq!(view["batch"]["lines"]["1"]["request"]["prompt"], "beta one");
    let earlier = &view["earlier_batches"][0];
    assert_eq!(earlier["source"], "a.jsonl", "{view}");
    assert_eq!(earlier["lines"]["2"]["request"]["prompt"], "alpha two");
    let page = std::fs::read_to_string(dir.join("out").join("index.html")).unwrap();
    for prompt in ["alpha one", "alpha two", "beta one"] {
        assert!(page.contains(prompt), "{prompt} is not on the page");
    }
}

/// A generate run into `out` on a counting emulator; returns its outcome and the requests it sent.
fn generate_counted(dir: &Path) -> (common::Outcome, u64) {
    let emulator = Standalone::start(EmulatorConfig::default());
    let url = emulator.base_url();
    let out = run(dir, &["generate", "-p", "x", "--size", "1K", "--out", "out", "--base-url", &url, "--api-key", "k"]);
    (out, emulator.requests())
}

#[test]
fn a_journal_that_cannot_be_appended_to_is_found_before_anything_is_sent() {
    let dir = Scratch::new("journal-unwritable");
    // A directory in the journal's place: unwritable even for root (a read-only file is not).
    std::fs::create_dir_all(dir.join("out").join("journal.jsonl")).unwrap();
    let (out, requests) = generate_counted(&dir.path);
    assert_eq!(out.code(), 1, "{out}");
    assert!(out.stderr.contains("cannot write to out/journal.jsonl: it is a directory"), "{out}");
    assert_eq!(requests, 0, "nothing is sent (nor paid for) when the result could not be recorded");
}

#[cfg(unix)]
#[test]
fn a_journal_that_is_a_link_is_refused_and_nothing_is_sent() {
    let dir = Scratch::new("journal-link");
    let target = dir.write("elsewhere.txt", "keep\n");
    std::fs::create_dir_all(dir.join("out")).unwrap();
    std::os::unix::fs::symlink(&target, dir.join("out").join("journal.jsonl")).unwrap();
    let (out, requests) = generate_counted(&dir.path);
    assert_eq!(out.code(), 1, "{out}");
    assert!(out.stderr.contains("out/journal.jsonl: it is a symbolic link"), "{out}");
    assert_eq!(requests, 0);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep\n");
}
