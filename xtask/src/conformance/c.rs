//! The C ABI's cells: each job through the `seedream_client_*` functions (in-process, bounded and
//! cancellable), the response checked through the C accessors.

use std::time::Duration;

use seedream::seedream_image_format;
use seedream_types::{EditRequest, ImageFormat, ImagesResponse, StreamEvent};

use super::{Bases, CELL_BOUND, Cell, Job, KEY, Route, as_sent, check_format, edit_as_sent, shape};
use crate::cabi::{self, Bounded, CClient, CClientConfig, CResponse};
use crate::checks::{Expected, check_image};

fn c_config(base: &str) -> CClientConfig {
    CClientConfig {
        base_url: base.to_owned(),
        api_key: KEY.to_owned(),
        timeouts: Some([Duration::from_secs(5), Duration::from_secs(30), Duration::from_secs(30), CELL_BOUND]),
        max_attempts: Some(1),
        worker_threads: Some(1),
        ..Default::default()
    }
}

fn c_client(base: &str) -> Result<CClient, String> {
    CClient::build(&c_config(base)).map_err(|e| format!("building the C client: {e}"))
}

/// The C ABI's name for a format.
fn c_format(format: ImageFormat) -> seedream_image_format {
    match format {
        ImageFormat::Png => seedream_image_format::Png,
        ImageFormat::Jpeg => seedream_image_format::Jpeg,
        _ => seedream_image_format::Unknown,
    }
}

/// The C view of a response against the expectations: the JSON it hands out parses to the
/// documented shape, and the accessors agree with it (bytes, sizes, usage).
fn check_c_response(response: &CResponse, expected: &Expected, route: Route, streamed: bool, full: bool) -> Cell {
    let parsed = ImagesResponse::from_slice(response.json.as_bytes()).map_err(|e| e.to_string())?;
    expected.check_response(&parsed, shape(route, streamed))?;
    check_format(&parsed, route.b64())?;
    if response.images.len() != parsed.data.len() || response.request_id.is_empty() || response.attempts != 1 {
        return Err(format!(
            "{} images, request id {:?}, {} attempts",
            response.images.len(),
            response.request_id,
            response.attempts
        ));
    }
    for (index, image) in response.images.iter().enumerate() {
        let size = (expected.dims.width, expected.dims.height);
        if !image.succeeded || image.size != size || route.b64() != image.url.is_empty() {
            return Err(format!("image {index}: {image:?}"));
        }
        let bytes =
            image.bytes.as_ref().map_err(|code| format!("image {index} bytes: {}", cabi::result_name(*code)))?;
        check_image(bytes, expected, index, full)?;
        if image.format != c_format(expected.format_of(index)) {
            return Err(format!("image {index}: seedream_response_image_format is {:?}", image.format));
        }
        check_c_layer(image, index, expected)?;
    }
    let usage = response.usage.ok_or("seedream_response_usage: not available")?;
    let successes = parsed.data.len() as u64;
    if usage.generated_images != successes || usage.output_tokens == 0 || usage.total_tokens == 0 {
        return Err(format!("seedream_usage {usage:?}"));
    }
    if expected.input_images.is_some() && response.input_images != expected.input_images {
        return Err(format!("seedream_response_usage_input_images: {:?}", response.input_images));
    }
    if expected.web_search && response.web_searches.is_none() {
        return Err("seedream_response_usage_web_searches: not available".into());
    }
    Ok(())
}

/// The layer accessors of image `index` agree with the decomposition: z-index, box (inside the base
/// image), name and description for layers; z-index 0 and no box for the base image; nothing
/// without layers.
fn check_c_layer(image: &cabi::CImage, index: usize, expected: &Expected) -> Cell {
    let fail = || Err(format!("image {index}: layer accessors {image:?}"));
    if expected.max_layers.is_none() {
        let none = image.z_index.is_none() && image.bounding_box.is_none();
        return if none && image.name.is_empty() && image.description.is_empty() { Ok(()) } else { fail() };
    }
    if image.z_index != Some(index as i64) {
        return fail();
    }
    if index == 0 {
        return if image.bounding_box.is_none() { Ok(()) } else { fail() };
    }
    let Some(bounding_box) = image.bounding_box else { return fail() };
    let [x1, y1, x2, y2] = bounding_box.absolute;
    let (w, h) = (f64::from(expected.dims.width), f64::from(expected.dims.height));
    let inside = bounding_box.has_absolute
        && bounding_box.has_normalized
        && (0.0 <= x1 && x1 < x2 && x2 <= w)
        && (0.0 <= y1 && y1 < y2 && y2 <= h);
    if !inside || image.name.is_empty() || image.description.is_empty() {
        return fail();
    }
    Ok(())
}

/// The fields of an edit as `seedream_client_edit` takes them.
fn edit_params(edit: &EditRequest) -> String {
    let mut params = serde_json::json!({"model": edit.model, "prompt": edit.prompt});
    if let Some(n) = &edit.n {
        params["n"] = serde_json::to_value(n).unwrap_or_default();
    }
    if let Some(size) = &edit.size {
        params["size"] = size.to_wire().into_owned().into();
    }
    if let Some(format) = &edit.response_format {
        params["response_format"] = format.as_str().into();
    }
    params.to_string()
}

pub(super) fn c_cell(job: &Job, route: Route, bases: &Bases, full: bool) -> Cell {
    let base = bases.of(route).to_owned();
    let job = job.clone();
    let call = cabi::spawn_bounded(move |cancel| -> Cell {
        let client = c_client(&base)?;
        match &job {
            Job::Generate(request) => {
                let request = as_sent(request, route);
                let json = serde_json::to_string(&request).map_err(|e| e.to_string())?;
                let violations = cabi::validate(&json).map_err(|e| e.to_string())?;
                if !violations.is_empty() {
                    return Err(format!("seedream_request_validate: {violations:?}"));
                }
                let response = client.generate(&json, Some(cancel)).map_err(|e| e.to_string())?;
                check_c_response(&response, &Expected::of(&request), route, request.is_stream(), full)
            }
            Job::Stream(request) => {
                let request = as_sent(request, route);
                let json = serde_json::to_string(&request).map_err(|e| e.to_string())?;
                let violations = cabi::validate(&json).map_err(|e| e.to_string())?;
                if !violations.is_empty() {
                    return Err(format!("seedream_request_validate: {violations:?}"));
                }
                let expected = Expected::of(&request);
                let mut events = Vec::new();
                client
                    .generate_stream(&json, Some(cancel), &mut |event| {
                        events.push(event);
                        events.len() <= expected.count + 1
                    })
                    .map_err(|e| e.to_string())?;
                c_stream_events(&events, &expected, route, full)
            }
            Job::EditRefused(edit) => {
                let edit = edit_as_sent(edit, route);
                let image = edit.images[0].bytes.clone();
                match client.edit(&edit_params(&edit), &[&image], Some(cancel)) {
                    Err(error)
                        if error.code == seedream::seedream_result::InvalidRequest
                            && error.violations.iter().map(|(field, _)| field.as_str()).eq(["size"]) =>
                    {
                        Ok(())
                    }
                    other => Err(format!("{other:?}, expected SEEDREAM_RESULT_INVALID_REQUEST naming `size`")),
                }
            }
            Job::Edit(edit) => {
                let edit = edit_as_sent(edit, route);
                let image = edit.images[0].bytes.clone();
                let response = client.edit(&edit_params(&edit), &[&image], Some(cancel)).map_err(|e| e.to_string())?;
                check_c_response(&response, &Expected::of(&edit.to_generate_request()), route, false, full)
            }
            Job::Refused(request, field) => {
                let request = as_sent(request, route);
                let json = serde_json::to_string(&request).map_err(|e| e.to_string())?;
                let violations = cabi::validate(&json).map_err(|e| e.to_string())?;
                if violations != [*field] {
                    return Err(format!("seedream_request_validate: {violations:?}, expected exactly `{field}`"));
                }
                match client.generate(&json, Some(cancel)) {
                    Err(error)
                        if error.code == seedream::seedream_result::InvalidRequest
                            && error.violations.iter().map(|(f, _)| f.as_str()).eq([*field]) => {}
                    other => {
                        return Err(format!("{other:?}, expected SEEDREAM_RESULT_INVALID_REQUEST naming `{field}`"));
                    }
                }
                // With validation off, the service's 400 comes back through the error accessors.
                let unvalidated = CClient::build(&CClientConfig { validate_requests: Some(false), ..c_config(&base) })
                    .map_err(|e| format!("building the C client: {e}"))?;
                match unvalidated.generate(&json, Some(cancel)) {
                    Err(error)
                        if error.http_status == 400
                            && error.api_code == "InvalidParameter"
                            && error.param == *field =>
                    {
                        Ok(())
                    }
                    other => Err(format!("{other:?}, expected HTTP 400 InvalidParameter with param `{field}`")),
                }
            }
        }
    });
    match call.wait(CELL_BOUND, Duration::from_secs(10)) {
        Bounded::Done(cell) => cell,
        Bounded::Overran(_) => Err(format!("took longer than {CELL_BOUND:?}")),
        Bounded::Hung => Err(format!("hung: no return {CELL_BOUND:?} + 10 s after the start, even cancelled")),
        Bounded::Panicked(message) => Err(format!("panicked: {message}")),
    }
}

fn c_stream_events(events: &[cabi::CEvent], expected: &Expected, route: Route, full: bool) -> Cell {
    use seedream::seedream_event_type as Kind;
    let (last, images) = events.split_last().ok_or("no events")?;
    if last.kind != Kind::Completed || images.len() != expected.count {
        return Err(format!("{} events, the last {:?}", events.len(), last.kind));
    }
    let usage = last.usage.ok_or("completed without usage")?;
    if usage.generated_images != expected.count as u64 || usage.output_tokens == 0 {
        return Err(format!("completed usage {usage:?}"));
    }
    let mut seen = vec![false; expected.count];
    for event in images {
        let index = event.image_index as usize;
        if event.kind != Kind::PartialSucceeded || seen.get(index).copied() != Some(false) {
            return Err(format!("event {:?} for image {index}", event.kind));
        }
        seen[index] = true;
        if event.size != (expected.dims.width, expected.dims.height) {
            return Err(format!("event size {:?}, expected {}", event.size, expected.dims));
        }
        let parsed = StreamEvent::from_json(&event.json).map_err(|e| e.to_string())?;
        let StreamEvent::PartialSucceeded(parsed) = parsed else { return Err("event JSON of another kind".into()) };
        if route.b64() != parsed.b64_json.is_some() {
            return Err("an event in the wrong response_format".into());
        }
        let bytes = event.bytes.as_ref().map_err(|code| format!("event bytes: {}", cabi::result_name(*code)))?;
        check_image(bytes, expected, index, full)?;
        if event.format != c_format(expected.format_of(index)) {
            return Err(format!("event {index}: seedream_stream_event_image_format is {:?}", event.format));
        }
    }
    Ok(())
}
