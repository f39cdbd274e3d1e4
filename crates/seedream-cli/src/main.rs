//! The `seedream` binary; everything is in the library (`seedream_cli::main`).

fn main() -> std::process::ExitCode {
    seedream_cli::main()
}
