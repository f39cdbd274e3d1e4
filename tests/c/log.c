/* The log callback: each call's outcome line names its request id and client request id, a retry
 * is logged, lines come from any thread the library uses, and none holds the API key, a header
 * value or the prompt. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "check.h"

#define PROMPT_WORDS "PROMPT-WORDS-NOT-LOGGED"
#define ONE "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"" PROMPT_WORDS "\",\"size\":\"1K\"}"

/* Every line received, joined by newlines (the callback may run on several threads). */
static pthread_mutex_t lines_lock = PTHREAD_MUTEX_INITIALIZER;
static char lines[64 * 1024];
static size_t lines_len = 0;
static int debug_lines = 0;

static void keep_line(seedream_log_level level, const char *message, void *user_data) {
  CHECK(user_data == (void *)&lines);
  pthread_mutex_lock(&lines_lock);
  if (level == SEEDREAM_LOG_LEVEL_DEBUG) {
    debug_lines++;
  }
  size_t len = strlen(message);
  if (lines_len + len + 2 < sizeof lines) {
    memcpy(lines + lines_len, message, len);
    lines_len += len;
    lines[lines_len++] = '\n';
    lines[lines_len] = '\0';
  }
  pthread_mutex_unlock(&lines_lock);
}

static seedream_client *logged_client(const char *base_url, const char *fault) {
  seedream_client_builder *builder = seedream_client_builder_new();
  seedream_client *client = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_builder_set_base_url(builder, base_url), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_set_api_key(builder, env("SEEDREAM_TEST_API_KEY")), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_add_header(builder, "x-emulator-fault", fault), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_add_header(builder, "x-host-token", "HEADER-VALUE-NOT-LOGGED"),
               SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_set_log_callback(NULL, keep_line, NULL), SEEDREAM_RESULT_NULL_PARAMETER, NULL);
  CHECK_RESULT(seedream_client_builder_set_log_callback(builder, keep_line, (void *)&lines), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_build(builder, &client, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  seedream_client_builder_free(builder);
  return client;
}

int main(void) {
  const char *base_url = env("SEEDREAM_TEST_BASE_URL");
  seedream_client *client = logged_client(base_url, "rate-limit;times=1;id=log-c;retry_after=0");
  if (client == NULL) {
    return check_report("log");
  }
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate(client, ONE, NULL, &response, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  if (response != NULL) {
    char expected[256];
    snprintf(expected, sizeof expected, "answered request_id=\"%s\"", seedream_response_request_id(response));
    pthread_mutex_lock(&lines_lock);
    CHECK(strstr(lines, expected) != NULL);
    CHECK(strstr(lines, "seedream.call{model=\"doubao-seedream-4-0-250828\"") != NULL);
    snprintf(expected, sizeof expected, "client_request_id=\"%s\"", seedream_response_client_request_id(response));
    CHECK(strstr(lines, expected) != NULL);
    CHECK(strstr(lines, "attempts=2") != NULL);
    CHECK(strstr(lines, "retrying") != NULL);
    CHECK(strstr(lines, "downloaded") != NULL);
    CHECK(debug_lines >= 3);
    CHECK(strstr(lines, env("SEEDREAM_TEST_API_KEY")) == NULL);
    CHECK(strstr(lines, "Bearer") == NULL);
    CHECK(strstr(lines, "HEADER-VALUE-NOT-LOGGED") == NULL);
    CHECK(strstr(lines, PROMPT_WORDS) == NULL);
    pthread_mutex_unlock(&lines_lock);
    seedream_response_free(response);
  }
  seedream_client_free(client);
  if (check_failures != 0) {
    fprintf(stderr, "lines received:\n%s", lines);
  }
  return check_report("log");
}
