//! `Client::from_env`: its own test binary, because it changes the process environment.

use std::sync::Arc;

use seedream_client::testing::{RecordingTransport, Reply};
use seedream_client::{ARK_BASE_URL, Client, ClientBuilder, Error};
use seedream_types::{GenerateRequest, SEEDREAM_4_0};

fn set(name: &str, value: Option<&str>) {
    // SAFETY: this binary has a single test, so no other thread reads the environment meanwhile.
    unsafe {
        match value {
            Some(value) => std::env::set_var(name, value),
            None => std::env::remove_var(name),
        }
    }
}

/// The `Authorization` header a client from the environment sends.
fn sent_key() -> String {
    let transport = Arc::new(RecordingTransport::new());
    transport.push(Reply::json(200, &serde_json::json!({"data": []})));
    let client = ClientBuilder::from_env().transport(transport.clone()).build().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(client.generate(&GenerateRequest::new(SEEDREAM_4_0, "p")).send()).unwrap();
    transport.requests()[0].header("authorization").unwrap().to_owned()
}

#[test]
fn from_env_reads_the_key_and_base_url_in_order() {
    set("SEEDREAM_API_KEY", None);
    set("ARK_API_KEY", None);
    set("SEEDREAM_BASE_URL", None);
    assert!(matches!(Client::from_env(), Err(Error::Config(_))));

    set("ARK_API_KEY", Some("ark-key"));
    let client = Client::from_env().unwrap();
    assert_eq!(client.base_url(), ARK_BASE_URL);

    set("SEEDREAM_API_KEY", Some("  "));
    set("SEEDREAM_BASE_URL", Some("https://relay.example.test/v1/"));
    let client = Client::from_env().unwrap();
    assert_eq!(client.base_url(), "https://relay.example.test/v1");

    set("SEEDREAM_API_KEY", Some("seedream-key-SECRET"));
    let client = Client::from_env().unwrap();
    assert!(!format!("{client:?}").contains("SECRET"));
    assert_eq!(sent_key(), "Bearer seedream-key-SECRET", "SEEDREAM_API_KEY wins over ARK_API_KEY");
    set("SEEDREAM_API_KEY", None);
    assert_eq!(sent_key(), "Bearer ark-key");

    set("SEEDREAM_BASE_URL", Some("http://example.com/v1"));
    assert!(matches!(Client::from_env(), Err(Error::Config(_))), "plain http to a remote host");
}
