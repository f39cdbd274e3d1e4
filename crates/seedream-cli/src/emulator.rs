//! `seedream emulator`: serves the emulator in the foreground until Ctrl-C, printing where it listens.

use std::path::Path;

use seedream_emulator::{Emulator, EmulatorConfig};
use serde_json::json;

use crate::cli::EmulatorArgs;
use crate::failure::{Exit, Failure};
use crate::files::save_file;
use crate::interrupt::Interrupt;
use crate::output::Output;

/// Runs the command; returns when interrupted (exit 0) or when the emulator cannot start (exit 1).
pub async fn run(args: &EmulatorArgs, out: &Output, interrupt: &Interrupt) -> Exit {
    let api_keys: Vec<String> = args.api_key.iter().map(|k| k.expose().to_owned()).collect();
    let config =
        EmulatorConfig { port: args.port, tls: args.tls, api_keys, fault: args.fault.clone(), ..Default::default() };
    let handle = match Emulator::start(config).await {
        Ok(handle) => handle,
        Err(error) => {
            let failure = Failure::local(format!("cannot start the emulator on port {}: {error}", args.port))
                .with_hint("choose another port with --port (0 takes any free one)");
            out.error(&failure.to_string());
            return failure.exit;
        }
    };
    let mut cert_path = None;
    if let Some(pem) = handle.certificate_pem() {
        let path = args
            .cert_out
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join(format!("seedream-emulator-{}.pem", handle.addr().port())));
        if let Err(failure) = write_cert(&path, pem) {
            out.error(&failure.to_string());
            return failure.exit;
        }
        cert_path = Some(path);
    }
    let auth = if args.api_key.is_some() { "the key given with --api-key" } else { "any key" };
    if out.json {
        out.json_line(&json!({
            "base_url": handle.base_url(),
            "ark_base_url": handle.ark_base_url(),
            "certificate": cert_path.as_ref().map(|p| p.display().to_string()),
        }));
    } else {
        out.line(&format!("base URL (relay style, with /images/edits): {}", handle.base_url()));
        out.line(&format!("base URL (Ark style): {}", handle.ark_base_url()));
        if let Some(path) = &cert_path {
            out.line(&format!("certificate: {} (pass it to --ca-cert)", path.display()));
        }
        out.note(&format!("the emulator accepts {auth}; Ctrl-C stops it"));
    }
    interrupt.wait().await;
    out.note("stopping the emulator");
    handle.shutdown().await;
    Exit::Success
}

fn write_cert(path: &Path, pem: &str) -> Result<(), Failure> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| ".".as_ref());
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "emulator.pem".into());
    save_file(dir, &name, pem.as_bytes())
}
