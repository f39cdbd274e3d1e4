/* Version, result names, request validation without any network, NULL arguments and NULL frees. */
#include "check.h"

static const char *GOOD =
    "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"a lighthouse at dawn\",\"size\":\"2K\","
    "\"sequential_image_generation\":\"auto\",\"sequential_image_generation_options\":{\"max_images\":3}}";

/* Seedream 4.5 takes no 1K, no seed, and at most 15 images in all. */
static const char *BAD =
    "{\"model\":\"doubao-seedream-4-5-251128\",\"prompt\":\"p\",\"size\":\"1K\",\"seed\":7,"
    "\"image\":[\"https://example.com/a.png\",\"ftp://nope\"],"
    "\"sequential_image_generation\":\"auto\",\"sequential_image_generation_options\":{\"max_images\":14}}";

static void version_and_names(void) {
  const char *version = seedream_version();
  CHECK(version != NULL && strlen(version) >= 5 && strchr(version, '.') != NULL);
  CHECK_STR(seedream_result_name(SEEDREAM_RESULT_OK), "ok");
  CHECK_STR(seedream_result_name(SEEDREAM_RESULT_TIMEOUT), "timed out");
  CHECK_STR(seedream_result_name(SEEDREAM_RESULT_QUOTA_EXHAUSTED), "quota exhausted");
  CHECK_STR(seedream_result_name(-5), "unknown result code");
  CHECK_STR(seedream_result_name(100000), "unknown result code");
}

static void valid_request(void) {
  seedream_validation *validation = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_request_validate(GOOD, &validation, &error), SEEDREAM_RESULT_OK, error);
  CHECK(error == NULL);
  CHECK(seedream_validation_is_valid(validation));
  CHECK(seedream_validation_violation_count(validation) == 0);
  CHECK(seedream_validation_violation_field(validation, 0) == NULL);
  CHECK(seedream_validation_warning_count(validation) == 0);
  seedream_validation_free(validation);
}

static void invalid_request_lists_every_violation(void) {
  seedream_validation *validation = NULL;
  CHECK_RESULT(seedream_request_validate(BAD, &validation, NULL), SEEDREAM_RESULT_OK, NULL);
  CHECK(!seedream_validation_is_valid(validation));
  size_t count = seedream_validation_violation_count(validation);
  CHECK(count == 4);
  int saw_size = 0, saw_seed = 0, saw_image = 0, saw_max = 0;
  for (size_t i = 0; i < count; i++) {
    const char *field = seedream_validation_violation_field(validation, i);
    const char *message = seedream_validation_violation_message(validation, i);
    const char *code = seedream_validation_violation_code(validation, i);
    CHECK(field != NULL && message != NULL && code != NULL);
    if (field == NULL || message == NULL || code == NULL) continue;
    CHECK(strlen(message) > 0);
    if (strcmp(field, "size") == 0) {
      saw_size = 1;
      CHECK(strstr(message, "2K") != NULL);
    }
    if (strcmp(field, "seed") == 0) saw_seed = 1;
    if (strcmp(field, "image[1]") == 0) saw_image = 1;
    if (strcmp(field, "sequential_image_generation_options.max_images") == 0) saw_max = 1;
  }
  CHECK(saw_size && saw_seed && saw_image && saw_max);
  CHECK(seedream_validation_violation_field(validation, count) == NULL);
  CHECK(seedream_validation_violation_message(validation, count) == NULL);
  seedream_validation_free(validation);
}

static void long_prompt_is_a_warning(void) {
  size_t words = 700;
  char *json = malloc(64 + words * 5);
  CHECK(json != NULL);
  if (json == NULL) return;
  strcpy(json, "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"");
  for (size_t i = 0; i < words; i++) strcat(json, "word ");
  strcat(json, "\"}");
  seedream_validation *validation = NULL;
  CHECK_RESULT(seedream_request_validate(json, &validation, NULL), SEEDREAM_RESULT_OK, NULL);
  CHECK(seedream_validation_is_valid(validation));
  CHECK(seedream_validation_warning_count(validation) == 1);
  CHECK_STR(seedream_validation_warning_field(validation, 0), "prompt");
  CHECK(seedream_validation_warning_message(validation, 0) != NULL);
  seedream_validation_free(validation);
  free(json);
}

/* A missing prompt is a rule break (prompt is optional with layer_decomposition), not bad JSON. */
static void missing_prompt(void) {
  seedream_validation *validation = NULL;
  CHECK_RESULT(seedream_request_validate("{\"model\":\"m\"}", &validation, NULL), SEEDREAM_RESULT_OK, NULL);
  CHECK(!seedream_validation_is_valid(validation));
  CHECK_STR(seedream_validation_violation_field(validation, 0), "prompt");
  seedream_validation_free(validation);
  /* Wrong JSON types are violations under their field, as the command line reports them. */
  CHECK_RESULT(seedream_request_validate("{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":5}", &validation, NULL),
               SEEDREAM_RESULT_OK, NULL);
  CHECK(seedream_validation_violation_count(validation) == 1);
  CHECK_STR(seedream_validation_violation_field(validation, 0), "prompt");
  CHECK_STR(seedream_validation_violation_message(validation, 0), "must be a string, not a number");
  seedream_validation_free(validation);
  CHECK_RESULT(seedream_request_validate("{\"model\":1,\"prompt\":\"p\"}", &validation, NULL), SEEDREAM_RESULT_OK, NULL);
  CHECK_STR(seedream_validation_violation_field(validation, 0), "model");
  seedream_validation_free(validation);
  CHECK_RESULT(seedream_request_validate(
                   "{\"model\":\"doubao-seedream-5-0-pro-260628\",\"layer_decomposition\":true,"
                   "\"image\":\"https://example.com/a.png\"}",
                   &validation, NULL),
               SEEDREAM_RESULT_OK, NULL);
  CHECK(seedream_validation_is_valid(validation));
  seedream_validation_free(validation);
}

static void invalid_json(void) {
  const char *cases[] = {"{\"model\": ", "not json", ""};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    seedream_validation *validation = (seedream_validation *)&check_failures; /* must stay untouched */
    seedream_error *error = NULL;
    CHECK_RESULT(seedream_request_validate(cases[i], &validation, &error), SEEDREAM_RESULT_INVALID_JSON, error);
    CHECK(validation == (seedream_validation *)&check_failures);
    CHECK(error != NULL);
    CHECK(seedream_error_code(error) == SEEDREAM_RESULT_INVALID_JSON);
    CHECK(strlen(seedream_error_message(error)) > 0);
    CHECK(seedream_error_http_status(error) == 0);
    CHECK_STR(seedream_error_api_code(error), "");
    CHECK_STR(seedream_error_request_id(error), "");
    seedream_error_free(error);
  }
  /* Not UTF-8. */
  seedream_validation *validation = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_request_validate("{\"model\":\"\xff\xfe\"}", &validation, &error),
               SEEDREAM_RESULT_INVALID_ARGUMENT, error);
  CHECK(validation == NULL);
  seedream_error_free(error);
}

static void null_arguments(void) {
  seedream_validation *validation = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_request_validate(NULL, &validation, &error), SEEDREAM_RESULT_NULL_PARAMETER, error);
  CHECK(validation == NULL);
  CHECK(error != NULL && strstr(seedream_error_message(error), "request_json") != NULL);
  seedream_error_free(error);
  error = NULL;
  CHECK_RESULT(seedream_request_validate(GOOD, NULL, &error), SEEDREAM_RESULT_NULL_PARAMETER, error);
  CHECK(error != NULL && strstr(seedream_error_message(error), "validation_out") != NULL);
  seedream_error_free(error);
  /* Without an error_out the code alone comes back. */
  CHECK_RESULT(seedream_request_validate(NULL, NULL, NULL), SEEDREAM_RESULT_NULL_PARAMETER, NULL);

  /* Accessors on NULL give their documented sentinel. */
  CHECK(!seedream_validation_is_valid(NULL));
  CHECK(seedream_validation_violation_count(NULL) == 0);
  CHECK(seedream_validation_violation_field(NULL, 0) == NULL);
  CHECK(seedream_error_code(NULL) == SEEDREAM_RESULT_NULL_PARAMETER);
  CHECK(seedream_error_message(NULL) == NULL);
  CHECK(seedream_error_http_status(NULL) == 0);
  CHECK(seedream_response_image_count(NULL) == 0);
  CHECK(seedream_response_image_url(NULL, 0) == NULL);
  CHECK(seedream_stream_event_type(NULL) == SEEDREAM_EVENT_TYPE_UNKNOWN);
  CHECK(!seedream_cancel_is_cancelled(NULL));
  const uint8_t *data = NULL;
  size_t len = 0;
  CHECK(seedream_response_image_bytes(NULL, 0, &data, &len) == SEEDREAM_RESULT_NULL_PARAMETER);
  CHECK(data == NULL && len == 0);
  CHECK(seedream_client_builder_set_api_key(NULL, "k") == SEEDREAM_RESULT_NULL_PARAMETER);

  /* Freeing NULL is a no-op, for every type. */
  seedream_validation_free(NULL);
  seedream_error_free(NULL);
  seedream_cancel_free(NULL);
  seedream_cancel_cancel(NULL);
  seedream_client_builder_free(NULL);
  seedream_client_free(NULL);
  seedream_response_free(NULL);
}

static void builder_checks_its_arguments(void) {
  seedream_client_builder *builder = seedream_client_builder_new();
  CHECK(seedream_client_builder_set_max_attempts(builder, 0) == SEEDREAM_RESULT_INVALID_ARGUMENT);
  CHECK(seedream_client_builder_set_worker_threads(builder, 0) == SEEDREAM_RESULT_INVALID_ARGUMENT);
  CHECK(seedream_client_builder_set_base_url(builder, NULL) == SEEDREAM_RESULT_NULL_PARAMETER);
  CHECK(seedream_client_builder_add_trusted_certificate(builder, NULL, 10) == SEEDREAM_RESULT_NULL_PARAMETER);

  /* No API key: a configuration error, and the key never shows in messages. */
  seedream_client *client = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_builder_build(builder, &client, &error), SEEDREAM_RESULT_CONFIG, error);
  CHECK(client == NULL);
  CHECK(error != NULL && strstr(seedream_error_message(error), "API key") != NULL);
  seedream_error_free(error);
  error = NULL;

  /* A relative base URL. */
  CHECK(seedream_client_builder_set_api_key(builder, "secret-key-123") == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_set_base_url(builder, "not a url") == SEEDREAM_RESULT_OK);
  CHECK_RESULT(seedream_client_builder_build(builder, &client, &error), SEEDREAM_RESULT_CONFIG, error);
  CHECK(error != NULL && strstr(seedream_error_message(error), "secret-key-123") == NULL);
  seedream_error_free(error);
  error = NULL;

  /* A certificate that is not PEM. */
  CHECK(seedream_client_builder_set_base_url(builder, "https://relay.example.com/v1") == SEEDREAM_RESULT_OK);
  const char *garbage = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
  CHECK(seedream_client_builder_add_trusted_certificate(builder, (const uint8_t *)garbage, strlen(garbage)) ==
        SEEDREAM_RESULT_OK);
  CHECK_RESULT(seedream_client_builder_build(builder, &client, &error), SEEDREAM_RESULT_CONFIG, error);
  seedream_error_free(error);
  seedream_client_builder_free(builder);

  /* A good configuration builds, and the client frees cleanly without ever being used. */
  builder = seedream_client_builder_new();
  CHECK(seedream_client_builder_set_api_key(builder, "k") == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_set_base_url(builder, "https://relay.example.com/v1") == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_set_timeouts(builder, 1000, 2000, 3000, 0) == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_set_worker_threads(builder, 1) == SEEDREAM_RESULT_OK);
  CHECK_RESULT(seedream_client_builder_build(builder, &client, NULL), SEEDREAM_RESULT_OK, NULL);
  CHECK(client != NULL);
  seedream_client_free(client);
  seedream_client_builder_free(builder);
}

static void cancel_token(void) {
  seedream_cancel *cancel = seedream_cancel_new();
  CHECK(cancel != NULL);
  CHECK(!seedream_cancel_is_cancelled(cancel));
  seedream_cancel_cancel(cancel);
  seedream_cancel_cancel(cancel);
  CHECK(seedream_cancel_is_cancelled(cancel));
  seedream_cancel_free(cancel);
}

int main(void) {
  version_and_names();
  valid_request();
  invalid_request_lists_every_violation();
  long_prompt_is_a_warning();
  missing_prompt();
  invalid_json();
  null_arguments();
  builder_checks_its_arguments();
  cancel_token();
  return check_report("validate");
}
