//! Ctrl-C: the first one asks the running command to stop cleanly (finish the file being written,
//! record what is saved, exit 130); a second one exits at once.

use tokio::sync::watch;

use crate::failure::Exit;

/// A handle on "Ctrl-C was pressed", cheap to clone.
#[derive(Debug, Clone)]
pub struct Interrupt {
    pressed: watch::Receiver<bool>,
}

impl Interrupt {
    /// Installs the handler (on the current Tokio runtime).
    pub fn install() -> Self {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return; // no signal support: Ctrl-C keeps its default effect
            }
            let _ = tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(i32::from(Exit::Interrupted.code()));
            }
        });
        Self { pressed: rx }
    }

    /// Waits until Ctrl-C is pressed.
    pub async fn wait(&self) {
        let mut pressed = self.pressed.clone();
        if pressed.wait_for(|&p| p).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
