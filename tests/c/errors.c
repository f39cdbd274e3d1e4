/* Failures a host must be able to tell apart: NULL arguments, invalid JSON, invalid requests, 401,
 * 429 quota, 429 rate limit, a retried 500, timeouts, and a refused connection. */
#include "check.h"

#define ONE "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"p\",\"size\":\"1K\"}"

static void null_arguments(seedream_client *client) {
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate(NULL, ONE, NULL, &response, &error), SEEDREAM_RESULT_NULL_PARAMETER, error);
  CHECK(error != NULL && strstr(seedream_error_message(error), "client") != NULL);
  seedream_error_free(error);
  error = NULL;
  CHECK_RESULT(seedream_client_generate(client, NULL, NULL, &response, &error), SEEDREAM_RESULT_NULL_PARAMETER, error);
  seedream_error_free(error);
  error = NULL;
  CHECK_RESULT(seedream_client_generate(client, ONE, NULL, NULL, &error), SEEDREAM_RESULT_NULL_PARAMETER, error);
  CHECK(error != NULL && strstr(seedream_error_message(error), "response_out") != NULL);
  seedream_error_free(error);
  CHECK(seedream_client_generate(client, ONE, NULL, NULL, NULL) == SEEDREAM_RESULT_NULL_PARAMETER);
  CHECK(response == NULL);
}

static void invalid_json_and_invalid_requests(seedream_client *client) {
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate(client, "{\"model\":", NULL, &response, &error), SEEDREAM_RESULT_INVALID_JSON,
               error);
  seedream_error_free(error);
  error = NULL;
  /* Checked before sending: every violation, no HTTP status. */
  const char *bad = "{\"model\":\"doubao-seedream-4-5-251128\",\"prompt\":\" \",\"size\":\"1K\"}";
  CHECK_RESULT(seedream_client_generate(client, bad, NULL, &response, &error), SEEDREAM_RESULT_INVALID_REQUEST, error);
  CHECK(error != NULL);
  if (error != NULL) {
    CHECK(seedream_error_http_status(error) == 0);
    CHECK(seedream_error_violation_count(error) == 2);
    CHECK_STR(seedream_error_violation_field(error, 0), "prompt");
    CHECK_STR(seedream_error_violation_field(error, 1), "size");
    CHECK(seedream_error_violation_message(error, 1) != NULL);
    CHECK(seedream_error_violation_field(error, 2) == NULL);
    /* The same rule words as seedream_validation_violation_code. */
    CHECK_STR(seedream_error_violation_code(error, 1), "size");
    CHECK(seedream_error_violation_code(error, 0) != NULL);
    CHECK(seedream_error_violation_code(error, 2) == NULL);
  }
  seedream_error_free(error);
  CHECK(response == NULL);
}

/* Calls `client` (which carries a fault header) and returns the error, or NULL on success. */
static seedream_error *fail_with(seedream_client *client, seedream_result expected) {
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate(client, ONE, NULL, &response, &error), expected, error);
  seedream_response_free(response);
  CHECK(error != NULL);
  if (error != NULL) CHECK(seedream_error_code(error) == expected);
  return error;
}

static void wrong_key(const char *base_url) {
  seedream_client_builder *builder = seedream_client_builder_new();
  seedream_client *client = NULL;
  CHECK(seedream_client_builder_set_base_url(builder, base_url) == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_set_api_key(builder, "wrong-key-4711") == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_build(builder, &client, NULL) == SEEDREAM_RESULT_OK);
  seedream_client_builder_free(builder);
  if (client == NULL) return;
  seedream_error *error = fail_with(client, SEEDREAM_RESULT_AUTHENTICATION);
  if (error != NULL) {
    CHECK(seedream_error_http_status(error) == 401);
    CHECK_STR(seedream_error_api_code(error), "AuthenticationError");
    CHECK(!seedream_error_is_retryable(error));
    CHECK(strstr(seedream_error_message(error), "wrong-key-4711") == NULL);
  }
  seedream_error_free(error);
  seedream_client_free(client);
}

static void quota(const char *base_url) {
  seedream_client *client = test_client(base_url, "quota", 3);
  if (client == NULL) return;
  seedream_error *error = fail_with(client, SEEDREAM_RESULT_QUOTA_EXHAUSTED);
  if (error != NULL) {
    CHECK(seedream_error_http_status(error) == 429);
    CHECK_STR(seedream_error_api_code(error), "QuotaExceeded");
    CHECK(strlen(seedream_error_request_id(error)) > 0);
    CHECK(strlen(seedream_error_client_request_id(error)) == 34);
    CHECK(strlen(seedream_error_message(error)) > 0);
    CHECK(!seedream_error_is_retryable(error)); /* and so it was not retried */
  }
  seedream_error_free(error);
  seedream_client_free(client);
}

static void rate_limit(const char *base_url) {
  seedream_client *client = test_client(base_url, "rate-limit;retry_after=2", 1);
  if (client == NULL) return;
  seedream_error *error = fail_with(client, SEEDREAM_RESULT_RATE_LIMITED);
  if (error != NULL) {
    CHECK(seedream_error_http_status(error) == 429);
    CHECK(seedream_error_is_retryable(error));
    CHECK(seedream_error_retry_after_ms(error) == 2000);
  }
  seedream_error_free(error);
  seedream_client_free(client);
}

static void server_error_is_retried(const char *base_url) {
  /* The first request fails with 500, the retry succeeds. */
  seedream_client *client = test_client(base_url, "server-error;times=1;id=errors-c-retry", 2);
  if (client == NULL) return;
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate(client, ONE, NULL, &response, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  CHECK(seedream_response_attempts(response) == 2);
  CHECK(strlen(seedream_response_client_request_id(response)) == 34);
  seedream_response_free(response);
  seedream_client_free(client);

  /* Without retries the 500 comes back. */
  client = test_client(base_url, "server-error", 1);
  if (client == NULL) return;
  error = fail_with(client, SEEDREAM_RESULT_SERVER_ERROR);
  if (error != NULL) {
    CHECK(seedream_error_http_status(error) == 500);
    CHECK_STR(seedream_error_api_code(error), "InternalServiceError");
    CHECK(seedream_error_is_retryable(error));
  }
  seedream_error_free(error);
  seedream_client_free(client);
}

static void timeouts(const char *base_url) {
  /* Headers that take 5 s against a 300 ms limit. */
  seedream_client_builder *builder = seedream_client_builder_new();
  seedream_client *client = NULL;
  CHECK(seedream_client_builder_set_base_url(builder, base_url) == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_set_api_key(builder, env("SEEDREAM_TEST_API_KEY")) == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_add_header(builder, "x-emulator-fault", "slow-headers;ms=5000") == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_set_timeouts(builder, 0, 300, 0, 0) == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_set_max_attempts(builder, 1) == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_build(builder, &client, NULL) == SEEDREAM_RESULT_OK);
  if (client != NULL) {
    seedream_error *error = fail_with(client, SEEDREAM_RESULT_TIMEOUT);
    if (error != NULL) {
      CHECK(seedream_error_http_status(error) == 0);
      CHECK(strstr(seedream_error_message(error), "headers") != NULL);
      /* No answer came, yet the call is named: yyyyMMddHHmmss and 20 letters and digits. */
      CHECK(strlen(seedream_error_client_request_id(error)) == 34);
      CHECK(strlen(seedream_error_request_id(error)) == 0);
    }
    seedream_error_free(error);
    seedream_client_free(client);
    client = NULL;
  }
  /* The overall deadline. */
  CHECK(seedream_client_builder_set_timeouts(builder, 0, 0, 0, 300) == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_build(builder, &client, NULL) == SEEDREAM_RESULT_OK);
  if (client != NULL) {
    seedream_error *error = fail_with(client, SEEDREAM_RESULT_TIMEOUT);
    if (error != NULL) CHECK(strstr(seedream_error_message(error), "overall") != NULL);
    seedream_error_free(error);
    seedream_client_free(client);
  }
  seedream_client_builder_free(builder);
}

static void refused_connection(void) {
  seedream_client *client = test_client(env("SEEDREAM_TEST_CLOSED_URL"), NULL, 1);
  if (client == NULL) return;
  seedream_error *error = fail_with(client, SEEDREAM_RESULT_TRANSPORT);
  if (error != NULL) {
    CHECK(seedream_error_is_retryable(error));
    CHECK(seedream_error_http_status(error) == 0);
    CHECK(strlen(seedream_error_client_request_id(error)) == 34);
  }
  seedream_error_free(error);
  seedream_client_free(client);
}

int main(void) {
  const char *base_url = env("SEEDREAM_TEST_BASE_URL");
  seedream_client *client = test_client(base_url, NULL, 1);
  if (client != NULL) {
    null_arguments(client);
    invalid_json_and_invalid_requests(client);
    wrong_key(base_url);
    quota(base_url);
    rate_limit(base_url);
    server_error_is_retried(base_url);
    timeouts(base_url);
    refused_connection();
  }
  seedream_client_free(client);
  return check_report("errors");
}
