/* Generate against the emulator: url and b64_json responses, the result accessors, a group with a
 * failed (moderated) image, and one client used from several threads at once. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "check.h"

#define MODEL "\"model\":\"doubao-seedream-4-0-250828\""

static int is_jpeg(const uint8_t *data, size_t len) {
  return len > 4 && data[0] == 0xFF && data[1] == 0xD8 && data[len - 2] == 0xFF && data[len - 1] == 0xD9;
}

static void url_response(seedream_client *client) {
  const char *request = "{" MODEL ",\"prompt\":\"a lighthouse at dawn\",\"size\":\"1K\"}";
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate(client, request, NULL, &response, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  if (response == NULL) return;

  CHECK(seedream_response_image_count(response) == 1);
  CHECK(seedream_response_image_succeeded(response, 0));
  const char *url = seedream_response_image_url(response, 0);
  CHECK(url != NULL && strncmp(url, "http://127.0.0.1:", 17) == 0);
  CHECK(seedream_response_image_width(response, 0) == 1024);
  CHECK(seedream_response_image_height(response, 0) == 1024);
  CHECK_STR(seedream_response_image_error_code(response, 0), "");

  /* The client downloaded the link: the bytes are a JPEG. */
  const uint8_t *data = NULL;
  size_t len = 0;
  CHECK_RESULT(seedream_response_image_bytes(response, 0, &data, &len), SEEDREAM_RESULT_OK, NULL);
  CHECK(data != NULL && is_jpeg(data, len));

  /* Out of range: documented sentinels, outputs untouched. */
  const uint8_t *untouched = (const uint8_t *)"x";
  size_t untouched_len = 77;
  CHECK(seedream_response_image_bytes(response, 1, &untouched, &untouched_len) == SEEDREAM_RESULT_INVALID_ARGUMENT);
  CHECK(untouched_len == 77 && untouched[0] == 'x');
  CHECK(seedream_response_image_url(response, 1) == NULL);
  CHECK(!seedream_response_image_succeeded(response, 1));
  CHECK(seedream_response_image_width(response, 1) == 0);

  seedream_usage usage = {0, 0, 0};
  CHECK_RESULT(seedream_response_usage(response, &usage), SEEDREAM_RESULT_OK, NULL);
  CHECK(usage.generated_images == 1);
  CHECK(usage.output_tokens == 1024 * 1024 / 256);

  const char *json = seedream_response_json(response);
  CHECK(json != NULL && strstr(json, "\"data\"") != NULL && strstr(json, url) != NULL);
  CHECK(json == seedream_response_json(response)); /* built once */
  CHECK(strlen(seedream_response_request_id(response)) > 0);
  CHECK(seedream_response_attempts(response) == 1);
  seedream_response_free(response);
}

static void b64_response(seedream_client *client) {
  const char *request =
      "{" MODEL ",\"prompt\":\"a red fox\",\"size\":\"1280x720\",\"response_format\":\"b64_json\",\"watermark\":false}";
  seedream_response *response = NULL;
  CHECK_RESULT(seedream_client_generate(client, request, NULL, &response, NULL), SEEDREAM_RESULT_OK, NULL);
  if (response == NULL) return;
  CHECK(seedream_response_image_count(response) == 1);
  CHECK_STR(seedream_response_image_url(response, 0), "");
  const uint8_t *data = NULL;
  size_t len = 0;
  CHECK_RESULT(seedream_response_image_bytes(response, 0, &data, &len), SEEDREAM_RESULT_OK, NULL);
  CHECK(data != NULL && is_jpeg(data, len));
  /* Decoded once: the same bytes come back. */
  const uint8_t *again = NULL;
  size_t again_len = 0;
  CHECK(seedream_response_image_bytes(response, 0, &again, &again_len) == SEEDREAM_RESULT_OK);
  CHECK(again == data && again_len == len);
  CHECK(seedream_response_image_width(response, 0) == 1280);
  CHECK(seedream_response_image_height(response, 0) == 720);
  CHECK(strstr(seedream_response_json(response), "\"b64_json\"") != NULL);
  seedream_response_free(response);
}

static void group_with_a_failed_image(const char *base_url) {
  seedream_client *client = test_client(base_url, "moderate;images=1", 1);
  if (client == NULL) return;
  const char *request =
      "{" MODEL ",\"prompt\":\"four seasons\",\"size\":\"1K\",\"response_format\":\"b64_json\","
      "\"sequential_image_generation\":\"auto\",\"sequential_image_generation_options\":{\"max_images\":3}}";
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate(client, request, NULL, &response, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  if (response != NULL) {
    CHECK(seedream_response_image_count(response) == 3);
    CHECK(seedream_response_image_succeeded(response, 0));
    CHECK(!seedream_response_image_succeeded(response, 1));
    CHECK(seedream_response_image_succeeded(response, 2));
    CHECK_STR(seedream_response_image_error_code(response, 1), "OutputImageSensitiveContentDetected");
    CHECK(strlen(seedream_response_image_error_message(response, 1)) > 0);
    CHECK_STR(seedream_response_image_url(response, 1), "");
    CHECK(seedream_response_image_width(response, 1) == 0);
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK(seedream_response_image_bytes(response, 1, &data, &len) == SEEDREAM_RESULT_NOT_AVAILABLE);
    CHECK(data == NULL && len == 0);
    CHECK(seedream_response_image_bytes(response, 2, &data, &len) == SEEDREAM_RESULT_OK);
    CHECK(is_jpeg(data, len));
    seedream_usage usage = {0, 0, 0};
    CHECK(seedream_response_usage(response, &usage) == SEEDREAM_RESULT_OK);
    CHECK(usage.generated_images == 2);
    seedream_response_free(response);
  }
  seedream_client_free(client);
}

static void without_downloads_url_images_have_no_bytes(const char *base_url) {
  seedream_client_builder *builder = seedream_client_builder_new();
  seedream_client *client = NULL;
  CHECK(seedream_client_builder_set_base_url(builder, base_url) == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_set_api_key(builder, env("SEEDREAM_TEST_API_KEY")) == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_set_download_images(builder, false) == SEEDREAM_RESULT_OK);
  CHECK_RESULT(seedream_client_builder_build(builder, &client, NULL), SEEDREAM_RESULT_OK, NULL);
  seedream_client_builder_free(builder);
  if (client == NULL) return;
  seedream_response *response = NULL;
  CHECK_RESULT(seedream_client_generate(client, "{" MODEL ",\"prompt\":\"p\",\"size\":\"1K\"}", NULL, &response, NULL),
               SEEDREAM_RESULT_OK, NULL);
  if (response != NULL) {
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK(strlen(seedream_response_image_url(response, 0)) > 0);
    CHECK(seedream_response_image_bytes(response, 0, &data, &len) == SEEDREAM_RESULT_NOT_AVAILABLE);
    CHECK(seedream_response_image_width(response, 0) == 1024); /* from the response's size */
    seedream_response_free(response);
  }
  seedream_client_free(client);
}

#define THREADS 4

struct job {
  seedream_client *client;
  int index;
  int ok;
};

static void *generate_on_thread(void *arg) {
  struct job *job = arg;
  char request[256];
  snprintf(request, sizeof request,
           "{" MODEL ",\"prompt\":\"thread %d\",\"size\":\"1K\",\"response_format\":\"b64_json\"}", job->index);
  seedream_response *response = NULL;
  if (seedream_client_generate(job->client, request, NULL, &response, NULL) == SEEDREAM_RESULT_OK) {
    const uint8_t *data = NULL;
    size_t len = 0;
    job->ok = seedream_response_image_count(response) == 1 &&
              seedream_response_image_bytes(response, 0, &data, &len) == SEEDREAM_RESULT_OK && is_jpeg(data, len);
    seedream_response_free(response);
  }
  return NULL;
}

static void one_client_on_several_threads(seedream_client *client) {
  pthread_t threads[THREADS];
  struct job jobs[THREADS];
  for (int i = 0; i < THREADS; i++) {
    jobs[i] = (struct job){client, i, 0};
    CHECK(pthread_create(&threads[i], NULL, generate_on_thread, &jobs[i]) == 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(threads[i], NULL);
    CHECK(jobs[i].ok);
  }
}

static void tls_with_a_trusted_certificate(void) {
  const char *url = env("SEEDREAM_TEST_TLS_URL");
  const char *pem = env("SEEDREAM_TEST_TLS_CERT");
  const char *request = "{" MODEL ",\"prompt\":\"over https\",\"size\":\"1K\",\"response_format\":\"b64_json\"}";

  /* The emulator's certificate is self-signed: without trusting it, the connection fails. */
  seedream_client *untrusting = test_client(url, NULL, 1);
  if (untrusting != NULL) {
    seedream_response *response = NULL;
    seedream_error *error = NULL;
    CHECK_RESULT(seedream_client_generate(untrusting, request, NULL, &response, &error), SEEDREAM_RESULT_TRANSPORT,
                 error);
    CHECK(response == NULL);
    seedream_error_free(error);
    seedream_client_free(untrusting);
  }

  seedream_client_builder *builder = seedream_client_builder_new();
  seedream_client *client = NULL;
  seedream_error *error = NULL;
  CHECK(seedream_client_builder_set_base_url(builder, url) == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_set_api_key(builder, env("SEEDREAM_TEST_API_KEY")) == SEEDREAM_RESULT_OK);
  CHECK(seedream_client_builder_add_trusted_certificate(builder, (const uint8_t *)pem, strlen(pem)) ==
        SEEDREAM_RESULT_OK);
  CHECK_RESULT(seedream_client_builder_build(builder, &client, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  error = NULL;
  seedream_client_builder_free(builder);
  if (client == NULL) return;
  seedream_response *response = NULL;
  CHECK_RESULT(seedream_client_generate(client, request, NULL, &response, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  const uint8_t *data = NULL;
  size_t len = 0;
  CHECK(seedream_response_image_bytes(response, 0, &data, &len) == SEEDREAM_RESULT_OK && is_jpeg(data, len));
  seedream_response_free(response);
  seedream_client_free(client);
}

int main(void) {
  const char *base_url = env("SEEDREAM_TEST_BASE_URL");
  seedream_client *client = test_client(base_url, NULL, 1);
  if (client == NULL) return check_report("generate");
  url_response(client);
  b64_response(client);
  group_with_a_failed_image(base_url);
  without_downloads_url_images_have_no_bytes(base_url);
  one_client_on_several_threads(client);
  tls_with_a_trusted_certificate();
  seedream_client_free(client);
  return check_report("generate");
}
