//! `seedream emulator`: serves the emulator in the foreground until Ctrl-C, printing where it listens.

use std::path::Path;

use std::path::PathBuf;

use clap::Args;
use seedream_emulator::{Emulator, EmulatorConfig};
use serde_json::json;

use crate::args::Secret;
use crate::failure::{Exit, Failure};
use crate::files::save_file;
use crate::interrupt::Interrupt;
use crate::output::Output;

/// The port it listens on unless `--port` says otherwise.
pub const DEFAULT_EMULATOR_PORT: u16 = 8787;

/// The examples and notes under `--help`.
pub const AFTER_HELP: &str = "\
Examples:
  seedream emulator
  seedream emulator --port 0 --tls --api-key test-key

Prints the relay-style base URL (…/v1, with /images/edits) and the Ark-style one (…/api/v3); with
--tls also the path of its certificate, to pass to --ca-cert. Then, in another terminal:
  seedream generate --base-url http://127.0.0.1:8787/v1 --api-key any --prompt \"a lighthouse\"";

/// Options of `emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = DEFAULT_EMULATOR_PORT)]
    pub port: u16,
    /// Serve HTTPS with a fresh self-signed certificate (written to --cert-out).
    #[arg(long)]
    pub tls: bool,
    /// Where to write the certificate with --tls (default: a file in the temporary directory).
    #[arg(long, value_name = "PATH", requires = "tls")]
    pub cert_out: Option<PathBuf>,
    /// Inject a fault into every request, as in the x-emulator-fault header:
    /// NAME[;times=N][;images=I,J][;reason=R] (rate-limit, quota, server-error, bad-gateway, reset,
    /// slow-headers, stall, stream-cut, stream-error, invalid-json, moderate, moderate-prompt,
    /// prompt-risk, moderate-input).
    #[arg(long, value_name = "SPEC")]
    pub fault: Option<String>,
    /// The key clients must send (default: any key is taken).
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<Secret>,
}

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
