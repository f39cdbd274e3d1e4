//! What every end-to-end command (conformance, faults, soak) runs on: one runtime and an emulator.

use seedream_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use tokio::runtime::Runtime;

/// A two-worker runtime (the machines here have two cores) for the clients and the emulator.
pub fn runtime() -> Result<Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))
}

/// Starts an emulator with `config` on `runtime`.
pub fn start_emulator(runtime: &Runtime, config: EmulatorConfig) -> Result<EmulatorHandle, String> {
    runtime.block_on(Emulator::start(config)).map_err(|e| format!("cannot start the emulator: {e}"))
}
