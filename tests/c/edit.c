/* Edit with image bytes from memory (and a mask): the input is a JPEG the emulator generated. */
#include "check.h"

static void edit_from_memory(seedream_client *client) {
  /* First a real JPEG to edit. */
  const char *request =
      "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"a cat\",\"size\":\"1280x720\","
      "\"response_format\":\"b64_json\"}";
  seedream_response *source = NULL;
  CHECK_RESULT(seedream_client_generate(client, request, NULL, &source, NULL), SEEDREAM_RESULT_OK, NULL);
  if (source == NULL) return;
  const uint8_t *jpeg = NULL;
  size_t jpeg_len = 0;
  CHECK_RESULT(seedream_response_image_bytes(source, 0, &jpeg, &jpeg_len), SEEDREAM_RESULT_OK, NULL);

  /* Copy it into our own buffer, and free the source: the edit must not depend on it. */
  uint8_t *copy = malloc(jpeg_len);
  CHECK(copy != NULL);
  if (copy == NULL) return;
  memcpy(copy, jpeg, jpeg_len);
  seedream_response_free(source);

  seedream_buffer images[1] = {{copy, jpeg_len}};
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  /* SeedEdit: one image, size adaptive (follows the input's 16:9 shape). */
  const char *params = "{\"model\":\"doubao-seededit-3-0-i2i-250628\",\"prompt\":\"make it a painting\","
                       "\"size\":\"adaptive\",\"response_format\":\"b64_json\"}";
  CHECK_RESULT(seedream_client_edit(client, params, images, 1, NULL, 0, NULL, &response, &error), SEEDREAM_RESULT_OK,
               error);
  seedream_error_free(error);
  error = NULL;
  if (response != NULL) {
    CHECK(seedream_response_image_count(response) == 1);
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK(seedream_response_image_bytes(response, 0, &data, &len) == SEEDREAM_RESULT_OK);
    CHECK(len > 2 && data[0] == 0xFF && data[1] == 0xD8);
    /* Width and height come from the JPEG itself (SeedEdit responses carry no size). */
    uint32_t width = seedream_response_image_width(response, 0), height = seedream_response_image_height(response, 0);
    CHECK(width > height && height > 0);
    seedream_response_free(response);
    response = NULL;
  }

  /* Seedream 4.0 with two images and a mask, url response downloaded. */
  seedream_buffer two[2] = {{copy, jpeg_len}, {copy, jpeg_len}};
  const char *group = "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"merge them\",\"size\":\"1K\",\"n\":2}";
  CHECK_RESULT(seedream_client_edit(client, group, two, 2, copy, jpeg_len, NULL, &response, &error),
               SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  error = NULL;
  if (response != NULL) {
    CHECK(seedream_response_image_count(response) == 2);
    for (size_t i = 0; i < 2; i++) {
      const uint8_t *data = NULL;
      size_t len = 0;
      CHECK(strlen(seedream_response_image_url(response, i)) > 0);
      CHECK(seedream_response_image_bytes(response, i, &data, &len) == SEEDREAM_RESULT_OK && len > 0);
    }
    seedream_response_free(response);
    response = NULL;
  }

  /* The generations fields an edit takes: Seedream 5.0 pro asked for PNG makes PNG. */
  const char *png = "{\"model\":\"doubao-seedream-5-0-pro-260628\",\"prompt\":\"make it a poster\","
                    "\"size\":\"1K\",\"output_format\":\"png\",\"background\":\"opaque\","
                    "\"optimize_prompt_options\":{\"mode\":\"fast\"},\"response_format\":\"b64_json\"}";
  CHECK_RESULT(seedream_client_edit(client, png, images, 1, NULL, 0, NULL, &response, &error), SEEDREAM_RESULT_OK,
               error);
  seedream_error_free(error);
  error = NULL;
  if (response != NULL) {
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK(seedream_response_image_bytes(response, 0, &data, &len) == SEEDREAM_RESULT_OK);
    CHECK(len > 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0);
    seedream_response_free(response);
    response = NULL;
  }
  /* ... checked by the model's rules as on generations: 4.0 makes JPEG only. */
  const char *jpeg_only = "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"p\",\"output_format\":\"png\"}";
  CHECK_RESULT(seedream_client_edit(client, jpeg_only, images, 1, NULL, 0, NULL, &response, &error),
               SEEDREAM_RESULT_INVALID_REQUEST, error);
  CHECK(error != NULL && strcmp(seedream_error_violation_field(error, 0), "output_format") == 0);
  seedream_error_free(error);
  error = NULL;

  /* Ark has no edits endpoint: the same edit goes out as generations with a data URL. */
  seedream_client *ark = test_client(env("SEEDREAM_TEST_ARK_URL"), NULL, 1);
  if (ark != NULL) {
    CHECK_RESULT(seedream_client_edit(ark, params, images, 1, NULL, 0, NULL, &response, &error), SEEDREAM_RESULT_OK,
                 error);
    seedream_error_free(error);
    error = NULL;
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK(seedream_response_image_bytes(response, 0, &data, &len) == SEEDREAM_RESULT_OK && len > 0);
    seedream_response_free(response);
    response = NULL;
    seedream_client_free(ark);
  }

  /* Bad input: no image, an unreadable image, unknown parameters, NULL buffer with a length. */
  CHECK_RESULT(seedream_client_edit(client, params, NULL, 0, NULL, 0, NULL, &response, &error),
               SEEDREAM_RESULT_INVALID_REQUEST, error);
  CHECK(error != NULL && seedream_error_violation_count(error) >= 1);
  seedream_error_free(error);
  error = NULL;
  seedream_buffer junk[1] = {{(const uint8_t *)"not an image", 12}};
  CHECK_RESULT(seedream_client_edit(client, params, junk, 1, NULL, 0, NULL, &response, &error),
               SEEDREAM_RESULT_INVALID_REQUEST, error);
  seedream_error_free(error);
  error = NULL;
  /* A field of the wrong type is refused under its name; a name this version does not know goes out
     as it is. */
  CHECK_RESULT(seedream_client_edit(client, "{\"model\":\"m\",\"prompt\":\"p\",\"seed\":\"seven\"}", images, 1, NULL,
                                    0, NULL, &response, &error),
               SEEDREAM_RESULT_INVALID_REQUEST, error);
  CHECK(error != NULL && seedream_error_violation_count(error) == 1 &&
        strcmp(seedream_error_violation_field(error, 0), "seed") == 0);
  seedream_error_free(error);
  error = NULL;
  CHECK_RESULT(seedream_client_edit(client, "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"p\",\"colour\":1}",
                                    images, 1, NULL, 0, NULL, &response, &error),
               SEEDREAM_RESULT_OK, error);
  seedream_response_free(response);
  response = NULL;
  seedream_buffer null_data[1] = {{NULL, 10}};
  CHECK_RESULT(seedream_client_edit(client, params, null_data, 1, NULL, 0, NULL, &response, &error),
               SEEDREAM_RESULT_NULL_PARAMETER, error);
  seedream_error_free(error);
  CHECK(response == NULL);
  free(copy);
}

int main(void) {
  seedream_client *client = test_client(env("SEEDREAM_TEST_BASE_URL"), NULL, 1);
  if (client != NULL) edit_from_memory(client);
  seedream_client_free(client);
  return check_report("edit");
}
