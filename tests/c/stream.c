/* Streaming: a callback per event with userdata, a failed image inside the stream, stopping early
 * by the callback's return value, an error event mid-stream, and re-entrant calls refused. */
#include "check.h"

#define GROUP_AS(n, format)                                                                      \
  "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"a comic strip\",\"size\":\"1K\","      \
  "\"response_format\":\"" format "\",\"stream\":true,\"sequential_image_generation\":\"auto\"," \
  "\"sequential_image_generation_options\":{\"max_images\":" #n "}}"
#define GROUP(n) GROUP_AS(n, "b64_json")

struct seen {
  int succeeded;
  int failed;
  int completed;
  int other;
  int stop_after; /* stop once this many events were seen; 0: never */
  int events;
  uint32_t next_index;
  int bytes_ok;
  int urls;
  uint64_t generated_images;
  const seedream_client *client; /* for the re-entrancy check; NULL to skip it */
  seedream_result reentrant;
};

static int on_event(void *userdata, const seedream_stream_event *event) {
  struct seen *seen = userdata;
  seen->events++;
  switch (seedream_stream_event_type(event)) {
    case SEEDREAM_EVENT_TYPE_PARTIAL_SUCCEEDED: {
      seen->succeeded++;
      const uint8_t *data = NULL;
      size_t len = 0;
      if (seedream_stream_event_bytes(event, &data, &len) == SEEDREAM_RESULT_OK && len > 2 && data[0] == 0xFF &&
          data[1] == 0xD8 && seedream_stream_event_width(event) == 1024 && seedream_stream_event_height(event) == 1024)
        seen->bytes_ok++;
      if (strncmp(seedream_stream_event_url(event), "http://", 7) == 0) seen->urls++;
      if (seedream_stream_event_image_index(event) != seen->next_index) seen->other += 100;
      seen->next_index++;
      break;
    }
    case SEEDREAM_EVENT_TYPE_PARTIAL_FAILED:
      seen->failed++;
      if (strcmp(seedream_stream_event_error_code(event), "OutputImageSensitiveContentDetected") != 0) seen->other += 10;
      if (seedream_stream_event_image_index(event) != seen->next_index) seen->other += 100;
      seen->next_index++;
      break;
    case SEEDREAM_EVENT_TYPE_COMPLETED: {
      seen->completed++;
      seedream_usage usage = {0, 0, 0};
      if (seedream_stream_event_usage(event, &usage) == SEEDREAM_RESULT_OK) seen->generated_images = usage.generated_images;
      if (strstr(seedream_stream_event_json(event), "image_generation.completed") == NULL) seen->other += 1000;
      break;
    }
    default:
      seen->other++;
  }
  if (seen->client != NULL) {
    seedream_response *response = NULL;
    seen->reentrant = seedream_client_generate(seen->client, GROUP(1), NULL, &response, NULL);
    seedream_response_free(response);
    seen->client = NULL;
  }
  return (seen->stop_after != 0 && seen->events >= seen->stop_after) ? SEEDREAM_STREAM_STOP : SEEDREAM_STREAM_CONTINUE;
}

static void whole_stream(seedream_client *client) {
  struct seen seen = {0};
  seen.client = client;
  seedream_error *error = NULL;
  /* Links: the client downloads each image before its callback. */
  CHECK_RESULT(seedream_client_generate_stream(client, GROUP_AS(3, "url"), on_event, &seen, NULL, &error),
               SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  CHECK(seen.succeeded == 3 && seen.bytes_ok == 3 && seen.urls == 3);
  CHECK(seen.failed == 0 && seen.other == 0);
  CHECK(seen.completed == 1 && seen.generated_images == 3);
  /* A blocking call from inside the callback is refused instead of deadlocking. */
  CHECK(seen.reentrant == SEEDREAM_RESULT_REENTRANT);
}

static void failed_image_does_not_end_the_stream(const char *base_url) {
  seedream_client *client = test_client(base_url, "moderate;images=1", 1);
  if (client == NULL) return;
  struct seen seen = {0};
  CHECK_RESULT(seedream_client_generate_stream(client, GROUP(3), on_event, &seen, NULL, NULL), SEEDREAM_RESULT_OK,
               NULL);
  CHECK(seen.succeeded == 2 && seen.failed == 1 && seen.completed == 1 && seen.other == 0);
  CHECK(seen.generated_images == 2);
  seedream_client_free(client);
}

static void callback_stops_the_stream(seedream_client *slow) {
  struct seen seen = {0};
  seen.stop_after = 1;
  /* Four images at the slow emulator's pace: stopping after the first one must not wait for the rest. */
  CHECK_RESULT(seedream_client_generate_stream(slow, GROUP(4), on_event, &seen, NULL, NULL), SEEDREAM_RESULT_OK, NULL);
  CHECK(seen.events == 1 && seen.succeeded == 1 && seen.completed == 0);
}

static void error_event_mid_stream(const char *base_url) {
  seedream_client *client = test_client(base_url, "stream-error", 1);
  if (client == NULL) return;
  struct seen seen = {0};
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate_stream(client, GROUP(3), on_event, &seen, NULL, &error),
               SEEDREAM_RESULT_SERVER_ERROR, error);
  CHECK(seen.succeeded == 1 && seen.completed == 0);
  CHECK(error != NULL);
  if (error != NULL) {
    CHECK_STR(seedream_error_api_code(error), "InternalServiceError");
    CHECK(strlen(seedream_error_request_id(error)) > 0);
  }
  seedream_error_free(error);
  seedream_client_free(client);
}

static void null_callback(seedream_client *client) {
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate_stream(client, GROUP(1), NULL, NULL, NULL, &error),
               SEEDREAM_RESULT_NULL_PARAMETER, error);
  CHECK(error != NULL && strstr(seedream_error_message(error), "callback") != NULL);
  seedream_error_free(error);
}

int main(void) {
  const char *base_url = env("SEEDREAM_TEST_BASE_URL");
  seedream_client *client = test_client(base_url, NULL, 1);
  seedream_client *slow = test_client(env("SEEDREAM_TEST_SLOW_URL"), NULL, 1);
  if (client != NULL && slow != NULL) {
    whole_stream(client);
    failed_image_does_not_end_the_stream(base_url);
    callback_stops_the_stream(slow);
    error_event_mid_stream(base_url);
    null_callback(client);
  }
  seedream_client_free(slow);
  seedream_client_free(client);
  return check_report("stream");
}
