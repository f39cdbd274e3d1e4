//! Request JSON as a caller (or the C ABI) hands it over: parsing and validation never panic, and a
//! parsed request round-trips through JSON unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use seedream_types::GenerateRequest;

fuzz_target!(|body: &[u8]| {
    let Ok(request) = serde_json::from_slice::<GenerateRequest>(body) else { return };
    let _ = request.validate();
    let text = serde_json::to_string(&request).expect("a parsed request serializes");
    let again: GenerateRequest = serde_json::from_str(&text).expect("a serialized request parses");
    assert_eq!(serde_json::to_string(&again).expect("serializes"), text);
});
