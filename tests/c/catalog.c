/* The catalog and the providers through the C ABI: BytePlus ids and Seedream 5.5 behave as their
 * families, GET /models is read with each id's lifecycle status, and a catalog file extends the
 * rules requests are checked by (a bad file is refused naming its row and field). */
#include "check.h"

#define TEXT_REQUEST(model) "{\"model\":\"" model "\",\"prompt\":\"a lighthouse\",\"size\":\"1K\"}"

static void generate_ok(seedream_client *client, const char *request, size_t images) {
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate(client, request, NULL, &response, &error), SEEDREAM_RESULT_OK, error);
  CHECK(response != NULL && seedream_response_image_count(response) == images);
  seedream_response_free(response);
  seedream_error_free(error);
}

static void provider_ids(seedream_client *client) {
  generate_ok(client, TEXT_REQUEST("dola-seedream-5-0-pro-260628"), 1);
  generate_ok(client, TEXT_REQUEST("seedream-4-0-20260415"), 1);
  /* 5.5: a transparent background from text alone, PNG. */
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  const char *transparent =
      "{\"model\":\"dola-seedream-5-5-261028\",\"prompt\":\"a glass\",\"size\":\"1K\",\"background\":\"transparent\"}";
  CHECK_RESULT(seedream_client_generate(client, transparent, NULL, &response, &error), SEEDREAM_RESULT_OK, error);
  CHECK(response != NULL && seedream_response_image_count(response) == 1);
  if (response != NULL) CHECK(seedream_response_image_format(response, 0) == SEEDREAM_IMAGE_FORMAT_PNG);
  seedream_response_free(response);
  seedream_error_free(error);
}

static void listing(seedream_client *client) {
  seedream_model_list *list = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_list_models(client, NULL, &list, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  if (list == NULL) return;
  size_t count = seedream_model_list_count(list);
  CHECK(count > 8);
  int retired_seen = 0, early_access_seen = 0;
  for (size_t i = 0; i < count; i++) {
    const char *id = seedream_model_list_id(list, i);
    const char *status = seedream_model_list_status(list, i);
    CHECK(id != NULL);
    if (id != NULL && strcmp(id, "doubao-seedream-4-0-250828") == 0) {
      CHECK_STR(status, "Shutdown");
      retired_seen = 1;
    }
    if (id != NULL && strcmp(id, "dola-seedream-5-5-261028") == 0) {
      CHECK(status == NULL);
      early_access_seen = 1;
    }
  }
  CHECK(retired_seen && early_access_seen);
  CHECK(seedream_model_list_id(list, count) == NULL);
  CHECK(seedream_model_list_status(list, count) == NULL);
  CHECK(strstr(seedream_model_list_json(list), "\"data\"") != NULL);
  seedream_model_list_free(list);
  seedream_model_list_free(NULL);
}

/* Reads a whole file; the caller frees it. NULL when it cannot. */
static char *read_file(const char *path, size_t *len) {
  FILE *file = fopen(path, "rb");
  if (file == NULL) return NULL;
  char *text = NULL;
  if (fseek(file, 0, SEEK_END) == 0) {
    long size = ftell(file);
    if (size > 0 && fseek(file, 0, SEEK_SET) == 0 && (text = malloc((size_t)size)) != NULL) {
      *len = fread(text, 1, (size_t)size, file);
    }
  }
  fclose(file);
  return text;
}

static void catalog_file(const char *base_url) {
  seedream_client_builder *builder = seedream_client_builder_new();
  seedream_error *error = NULL;
  const char *bad = "{\"families\": [{\"key\": \"seedream-4.0\"}]}";
  CHECK_RESULT(seedream_client_builder_set_catalog_json(builder, (const uint8_t *)bad, strlen(bad), &error),
               SEEDREAM_RESULT_INVALID_ARGUMENT, error);
  CHECK(error != NULL && strstr(seedream_error_message(error), "families[0]") != NULL);
  seedream_error_free(error);
  error = NULL;
  /* The driver's file: the built-in catalog whose 4.0 row takes one reference. */
  size_t len = 0;
  char *text = read_file(env("SEEDREAM_TEST_CATALOG"), &len);
  CHECK(text != NULL);
  CHECK_RESULT(seedream_client_builder_set_catalog_json(builder, (const uint8_t *)text, len, &error),
               SEEDREAM_RESULT_OK, error);
  free(text);
  seedream_error_free(error);
  error = NULL;
  seedream_client *client = test_client_from(builder, base_url, NULL, 1);
  if (client == NULL) return;
  seedream_response *response = NULL;
  const char *two = "{\"model\":\"seedream-4-0-20260415\",\"prompt\":\"p\","
                    "\"image\":[\"https://a.test/1.png\",\"https://a.test/2.png\"]}";
  CHECK_RESULT(seedream_client_generate(client, two, NULL, &response, &error), SEEDREAM_RESULT_INVALID_REQUEST, error);
  CHECK(response == NULL);
  CHECK(error != NULL && strstr(seedream_error_message(error), "image") != NULL);
  seedream_error_free(error);
  seedream_client_free(client);
}

int main(void) {
  const char *base_url = env("SEEDREAM_TEST_ARK_URL");
  seedream_client *client = test_client(base_url, NULL, 1);
  if (client == NULL) return check_report("catalog");
  provider_ids(client);
  listing(client);
  seedream_client_free(client);
  catalog_file(base_url);
  return check_report("catalog");
}
