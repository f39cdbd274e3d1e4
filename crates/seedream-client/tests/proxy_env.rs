//! Proxies from the environment: its own test binary with a single test, because it changes the
//! process environment (no other thread reads it meanwhile).

mod common;

use common::{ProxyMode, TestProxy};
use seedream_client::{Client, RetryPolicy};
use seedream_emulator::{Emulator, EmulatorConfig};
use seedream_types::{GenerateRequest, SEEDREAM_4_0, SizePreset};

const KEY: &str = "sk-env-proxy-key";
const NAMES: [&str; 8] =
    ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"];

fn set(vars: &[(&str, &str)]) {
    for name in NAMES {
        // SAFETY: this binary has a single test, so no other thread reads the environment meanwhile.
        unsafe { std::env::remove_var(name) };
    }
    for (name, value) in vars {
        // SAFETY: as above.
        unsafe { std::env::set_var(name, value) };
    }
}

#[test]
fn the_default_transport_follows_the_proxy_variables_in_either_case() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let emulator =
            Emulator::start(EmulatorConfig { api_keys: vec![KEY.into()], ..Default::default() }).await.unwrap();
        let request = GenerateRequest::new(SEEDREAM_4_0, "a lighthouse").with_size(SizePreset::OneK);
        let generate = |base: String| {
            let request = request.clone();
            async move {
                let client = Client::builder()
                    .api_key(KEY)
                    .base_url(base)
                    .allow_insecure_http(true)
                    .retry(RetryPolicy::none())
                    .build()
                    .unwrap();
                client.generate(&request).await
            }
        };
        // A loopback origin never goes through the environment's proxy (Go's rule): this proxy is on
        // 127.0.0.1 too, and still sees nothing.
        let bystander = TestProxy::start(ProxyMode::Forward).await;
        for vars in [vec![("HTTP_PROXY", bystander.url())], vec![("all_proxy", bystander.url())]] {
            let vars: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (*n, v.as_str())).collect();
            set(&vars);
            generate(emulator.base_url()).await.unwrap_or_else(|e| panic!("{vars:?}: {e}"));
            let localhost = emulator.base_url().replace("127.0.0.1", "localhost");
            generate(localhost).await.unwrap_or_else(|e| panic!("{vars:?}: {e}"));
        }
        assert_eq!(bystander.connections(), 0, "the proxy saw a loopback request");

        // A remote origin (a name the proxy resolves to the emulator) goes through it.
        let proxy = TestProxy::start(ProxyMode::Upstream(emulator.addr())).await;
        let remote = "http://images.example.test/v1".to_owned();
        let mut expected = 0;
        for vars in [
            vec![("HTTP_PROXY", proxy.url())],
            vec![("http_proxy", proxy.url())],
            vec![("ALL_PROXY", proxy.url())],
            vec![("all_proxy", proxy.url()), ("HTTPS_PROXY", "http://127.0.0.1:9".to_owned())],
        ] {
            let vars: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (*n, v.as_str())).collect();
            set(&vars);
            generate(remote.clone()).await.unwrap_or_else(|e| panic!("{vars:?}: {e}"));
            expected += 1;
            assert_eq!(proxy.connections(), expected, "{vars:?}");
        }
        for no_proxy in [("NO_PROXY", "example.test"), ("no_proxy", ".example.test,10.0.0.0/8"), ("NO_PROXY", "*")] {
            let url = proxy.url();
            set(&[("HTTP_PROXY", url.as_str()), no_proxy]);
            // Direct: the name does not resolve, so the call fails without reaching the proxy.
            assert!(generate(remote.clone()).await.is_err(), "{no_proxy:?}");
            assert_eq!(proxy.connections(), expected, "{no_proxy:?} bypasses the proxy");
        }
        // A proxy that is down fails the call: the variable is not silently ignored.
        set(&[("http_proxy", "http://user:ENVSECRET@127.0.0.1:9")]);
        let error = generate(remote.clone()).await.unwrap_err();
        assert!(
            error.to_string().contains("http://127.0.0.1:9") && !error.to_string().contains("ENVSECRET"),
            "{error}"
        );
        // The builder's no_proxy wins over the environment.
        let client = Client::builder().api_key(KEY).base_url(emulator.base_url()).no_proxy().build().unwrap();
        client.generate(&request).await.unwrap();
        set(&[]);
        emulator.shutdown().await;
    });
}
