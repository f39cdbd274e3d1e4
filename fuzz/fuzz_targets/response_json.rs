//! Response bodies, stream event lines and error bodies: parse never panics, and what parses
//! serializes and parses again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seedream_types::{ErrorEnvelope, ImagesResponse, StreamEvent};

fuzz_target!(|body: &[u8]| {
    if let Ok(response) = ImagesResponse::from_slice(body) {
        let again = serde_json::to_vec(&response).expect("a parsed response serializes");
        let reparsed = ImagesResponse::from_slice(&again).expect("a serialized response parses");
        assert_eq!(serde_json::to_value(&reparsed).ok(), serde_json::to_value(&response).ok());
        let _ = response.images().count() + response.errors().count();
    }
    if let Ok(text) = std::str::from_utf8(body) {
        if let Ok(event) = StreamEvent::from_json(text) {
            let _ = event.event_type();
            serde_json::to_vec(&event).expect("a parsed event serializes");
        }
    }
    let _ = serde_json::from_slice::<ErrorEnvelope>(body);
});
