//! The Rust client's cells: each job through `seedream_client::Client`, the answer and every image
//! checked.

use std::time::Duration;

use futures_util::StreamExt as _;
use seedream_client::{Client, Error, RetryPolicy, Timeouts};
use seedream_types::{ImagesResponse, StreamEvent};

use super::{Bases, CELL_BOUND, Cell, Job, KEY, Route, as_sent, check_format, edit_as_sent, shape};
use crate::checks::{Expected, UsageShape, check_image};

fn rust_client(base: &str, validate: bool) -> Result<Client, String> {
    Client::builder()
        .api_key(KEY)
        .base_url(base)
        .timeouts(
            Timeouts::default()
                .with_connect(Duration::from_secs(5))
                .with_headers(Duration::from_secs(30))
                .with_idle(Duration::from_secs(30))
                .with_overall(CELL_BOUND),
        )
        // A conforming exchange takes one attempt; a retry would hide a failure.
        .retry(RetryPolicy::none())
        .validate_requests(validate)
        .build()
        .map_err(|e| e.to_string())
}

async fn rust_images(client: &Client, response: &ImagesResponse, expected: &Expected, full: bool) -> Cell {
    for (index, image) in response.data.iter().enumerate().filter_map(|(i, item)| Some((i, item.image()?))) {
        let bytes = client.image_bytes(image).await.map_err(|e| format!("fetching an image: {e}"))?;
        check_image(&bytes, expected, index, full)?;
        if bytes.format() != Some(expected.format_of(index)) {
            return Err(format!("image {index}: ImageBytes::format is {:?}", bytes.format()));
        }
    }
    Ok(())
}

pub(super) async fn rust_cell(job: &Job, route: Route, bases: &Bases, full: bool) -> Cell {
    let base = bases.of(route);
    match job {
        Job::Generate(request) => {
            let request = as_sent(request, route);
            request.validate().map_err(|e| e.to_string())?;
            let client = rust_client(base, true)?;
            let (response, meta) = client.generate(&request).await.map_err(|e| e.to_string())?.into_parts();
            if meta.request_id.is_none() || meta.attempts != 1 {
                return Err(format!("request id {:?}, {} attempts", meta.request_id, meta.attempts));
            }
            let expected = Expected::of(&request);
            expected.check_response(&response, shape(route, request.is_stream()))?;
            check_format(&response, route.b64())?;
            rust_images(&client, &response, &expected, full).await
        }
        Job::Stream(request) => {
            let request = as_sent(request, route);
            request.validate().map_err(|e| e.to_string())?;
            let client = rust_client(base, true)?;
            let expected = Expected::of(&request);
            let mut stream = client.generate(&request).stream().await.map_err(|e| e.to_string())?;
            let mut seen = vec![false; expected.count];
            let mut completed = false;
            // Bounded: the emulator sends count + 1 events; more is a failure.
            for _ in 0..=expected.count + 1 {
                let Some(event) = stream.next().await else { break };
                match event.map_err(|e| e.to_string())? {
                    _ if completed => return Err("an event after image_generation.completed".into()),
                    StreamEvent::PartialSucceeded(event) => {
                        let index = event.image_index as usize;
                        if seen.get(index).copied() != Some(false) {
                            return Err(format!("image_index {index} repeated or out of range"));
                        }
                        seen[index] = true;
                        let image = event.into_image();
                        if image.dimensions() != Some(expected.dims) {
                            return Err(format!("event size {:?}, expected {}", image.size, expected.dims));
                        }
                        if route.b64() != image.b64_json.is_some() {
                            return Err("an event in the wrong response_format".into());
                        }
                        let bytes = client.image_bytes(&image).await.map_err(|e| format!("fetching an image: {e}"))?;
                        check_image(&bytes, &expected, index, full)?;
                    }
                    StreamEvent::Completed(done) => {
                        let usage = done.usage.ok_or("completed carries no usage")?;
                        expected.check_usage(&usage, UsageShape::Ark)?;
                        completed = true;
                    }
                    other => return Err(format!("unexpected event {:?}", other.event_type())),
                }
            }
            if !completed || seen.contains(&false) {
                return Err(format!("images seen {seen:?}, completed {completed}"));
            }
            match stream.next().await {
                None => Ok(()),
                Some(extra) => Err(format!("the stream did not end after completed: {extra:?}")),
            }
        }
        Job::EditRefused(edit) => {
            let edit = edit_as_sent(edit, route);
            match edit.validate() {
                Err(error) if error.fields() == ["size"] => {}
                other => return Err(format!("local validation: {other:?}, expected exactly `size`")),
            }
            match rust_client(base, true)?.edit(&edit).await {
                Err(Error::Validation(error)) if error.fields() == ["size"] => {}
                other => return Err(format!("the client: {other:?}, expected a validation error naming `size`")),
            }
            // Sent anyway, the service refuses it too, naming the same field.
            match rust_client(base, false)?.edit(&edit).await {
                Err(Error::Api(api)) if api.status == 400 && api.param.as_deref() == Some("size") => Ok(()),
                other => Err(format!("the service: {other:?}, expected 400 with param `size`")),
            }
        }
        Job::Edit(edit) => {
            let edit = edit_as_sent(edit, route);
            edit.validate().map_err(|e| e.to_string())?;
            let client = rust_client(base, true)?;
            let (response, meta) = client.edit(&edit).await.map_err(|e| e.to_string())?.into_parts();
            if meta.request_id.is_none() {
                return Err("no request id".into());
            }
            let expected = Expected::of(&edit.to_generate_request());
            expected.check_response(&response, shape(route, false))?;
            check_format(&response, route.b64())?;
            rust_images(&client, &response, &expected, full).await
        }
        Job::Refused(request, field) => {
            let request = as_sent(request, route);
            match request.validate() {
                Err(error) if error.fields() == [*field] => {}
                other => return Err(format!("local validation: {other:?}, expected exactly `{field}`")),
            }
            match rust_client(base, true)?.generate(&request).await {
                Err(Error::Validation(error)) if error.fields() == [*field] => {}
                other => return Err(format!("the client: {other:?}, expected a validation error naming `{field}`")),
            }
            // Sent anyway, the service refuses it as the live service does.
            match rust_client(base, false)?.generate(&request).await {
                Err(Error::Api(api))
                    if api.status == 400 && api.code == "InvalidParameter" && api.param.as_deref() == Some(*field) =>
                {
                    Ok(())
                }
                other => Err(format!("the service: {other:?}, expected 400 InvalidParameter with param `{field}`")),
            }
        }
    }
}
