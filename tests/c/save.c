/* Saving to disk: seedream_client_generate_save and _edit_save stream images into a folder, each with
 * its provenance, under its final name only once the answer is whole; seedream_response_image_path
 * names each file. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <unistd.h>

#include "check.h"

/* The whole file at `path` (NUL-terminated for searching text in it); NULL when it cannot be read. */
static char *read_file(const char *path, size_t *len_out) {
  FILE *file = fopen(path, "rb");
  if (file == NULL) return NULL;
  fseek(file, 0, SEEK_END);
  long len = ftell(file);
  fseek(file, 0, SEEK_SET);
  char *bytes = malloc((size_t)len + 1);
  if (bytes != NULL && fread(bytes, 1, (size_t)len, file) == (size_t)len) {
    bytes[len] = '\0';
    *len_out = (size_t)len;
  } else {
    free(bytes);
    bytes = NULL;
  }
  fclose(file);
  return bytes;
}

/* Whether `haystack` (of `len` bytes) holds `needle`. */
static int contains(const char *haystack, size_t len, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= len; i++) {
    if (memcmp(haystack + i, needle, n) == 0) return 1;
  }
  return 0;
}

/* The number of entries in `dir`, and of those whose name starts with '.' (temporary files). */
static void count_entries(const char *dir, int *files, int *hidden) {
  *files = 0;
  *hidden = 0;
  DIR *listing = opendir(dir);
  if (listing == NULL) return;
  struct dirent *entry;
  while ((entry = readdir(listing)) != NULL) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    (*files)++;
    if (entry->d_name[0] == '.') (*hidden)++;
  }
  closedir(listing);
}

/* Removes the files of a flat directory, then the directory. */
static void remove_dir(const char *dir) {
  DIR *listing = opendir(dir);
  if (listing == NULL) return;
  struct dirent *entry;
  char path[4096];
  while ((entry = readdir(listing)) != NULL) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
    unlink(path);
  }
  closedir(listing);
  rmdir(dir);
}

/* Checks that image `index` of `response` was saved as `<dir>/<stem>-<index>.jpg`, a JPEG carrying
 * `prompt` and the tool in its provenance. */
static void check_saved_jpeg(const seedream_response *response, size_t index, const char *dir, const char *stem,
                             const char *prompt) {
  char expected[4096];
  snprintf(expected, sizeof expected, "%s/%s-%zu.jpg", dir, stem, index);
  const char *path = seedream_response_image_path(response, index);
  CHECK_STR(path, expected);
  if (path == NULL) return;
  size_t len = 0;
  char *bytes = read_file(path, &len);
  CHECK(bytes != NULL && len > 2 && (unsigned char)bytes[0] == 0xFF && (unsigned char)bytes[1] == 0xD8);
  if (bytes != NULL) {
    CHECK(contains(bytes, len, prompt));
    CHECK(contains(bytes, len, "seedream-ffi"));
    CHECK(contains(bytes, len, "doubao-seedream-4-0"));
  }
  free(bytes);
  CHECK(seedream_response_image_format(response, index) == SEEDREAM_IMAGE_FORMAT_JPEG);
  /* The bytes are in the file, not in the response. */
  const uint8_t *data = NULL;
  size_t data_len = 0;
  CHECK(seedream_response_image_bytes(response, index, &data, &data_len) == SEEDREAM_RESULT_NOT_AVAILABLE);
}

static void generate_save(seedream_client *client, const char *dir) {
  /* A group of three as b64_json: streamed into files as the answer arrives. */
  const char *group = "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"three lighthouses\",\"size\":\"1K\","
                      "\"sequential_image_generation\":\"auto\","
                      "\"sequential_image_generation_options\":{\"max_images\":3},\"response_format\":\"b64_json\"}";
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate_save(client, group, dir, "lighthouse", NULL, &response, &error),
               SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  error = NULL;
  if (response != NULL) {
    CHECK(seedream_response_image_count(response) == 3);
    for (size_t i = 0; i < 3; i++) check_saved_jpeg(response, i, dir, "lighthouse", "three lighthouses");
    CHECK(seedream_response_image_path(response, 3) == NULL);
    CHECK(strlen(seedream_response_request_id(response)) > 0);
    seedream_response_free(response);
    response = NULL;
  }
  int files = 0, hidden = 0;
  count_entries(dir, &files, &hidden);
  CHECK(files == 3 && hidden == 0);

  /* Links (the default response format) are downloaded and saved the same way. */
  const char *links = "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"a harbour\",\"size\":\"1K\"}";
  CHECK_RESULT(seedream_client_generate_save(client, links, dir, "harbour", NULL, &response, &error),
               SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  error = NULL;
  if (response != NULL) {
    check_saved_jpeg(response, 0, dir, "harbour", "a harbour");
    CHECK(strlen(seedream_response_image_url(response, 0)) > 0);
    seedream_response_free(response);
    response = NULL;
  }

  /* Bad arguments: NULL folder, a stem with directory parts, a folder that is a file. Nothing is left. */
  CHECK_RESULT(seedream_client_generate_save(client, links, NULL, "x", NULL, &response, &error),
               SEEDREAM_RESULT_NULL_PARAMETER, error);
  seedream_error_free(error);
  error = NULL;
  CHECK_RESULT(seedream_client_generate_save(client, links, dir, "../escape", NULL, &response, &error),
               SEEDREAM_RESULT_INVALID_ARGUMENT, error);
  seedream_error_free(error);
  error = NULL;
  char file_as_dir[4096];
  snprintf(file_as_dir, sizeof file_as_dir, "%s/harbour-0.jpg", dir);
  seedream_result result = seedream_client_generate_save(client, group, file_as_dir, "x", NULL, &response, &error);
  CHECK(result == SEEDREAM_RESULT_IO);
  CHECK(error != NULL && strlen(seedream_error_message(error)) > 0);
  seedream_error_free(error);
  error = NULL;
  CHECK(response == NULL);
  count_entries(dir, &files, &hidden);
  CHECK(files == 4 && hidden == 0);
}

static void moderated_image_has_no_file(const char *base_url, const char *dir) {
  seedream_client *client = test_client(base_url, "moderate;images=1", 1);
  if (client == NULL) return;
  const char *group = "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"a group\",\"size\":\"1K\","
                      "\"sequential_image_generation\":\"auto\","
                      "\"sequential_image_generation_options\":{\"max_images\":3},\"response_format\":\"b64_json\"}";
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate_save(client, group, dir, "group", NULL, &response, &error),
               SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  if (response != NULL) {
    size_t count = seedream_response_image_count(response), saved = 0;
    CHECK(count == 3);
    for (size_t i = 0; i < count; i++) {
      int succeeded = seedream_response_image_succeeded(response, i);
      const char *path = seedream_response_image_path(response, i);
      CHECK(succeeded ? path != NULL : path == NULL);
      if (path != NULL) saved++;
    }
    CHECK(saved == 2);
    seedream_response_free(response);
  }
  seedream_client_free(client);
}

static void edit_save(seedream_client *client, const char *dir) {
  /* A real JPEG to edit, saved first; then edited from memory into the folder. */
  const char *request = "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"a cat\",\"size\":\"1K\","
                        "\"response_format\":\"b64_json\"}";
  seedream_response *source = NULL;
  CHECK_RESULT(seedream_client_generate(client, request, NULL, &source, NULL), SEEDREAM_RESULT_OK, NULL);
  if (source == NULL) return;
  const uint8_t *jpeg = NULL;
  size_t jpeg_len = 0;
  CHECK_RESULT(seedream_response_image_bytes(source, 0, &jpeg, &jpeg_len), SEEDREAM_RESULT_OK, NULL);
  seedream_buffer images[1] = {{jpeg, jpeg_len}};
  const char *params = "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"the cat, at night\",\"size\":\"1K\","
                       "\"response_format\":\"b64_json\"}";
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_edit_save(client, params, images, 1, NULL, 0, dir, "night", NULL, &response, &error),
               SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  if (response != NULL) {
    check_saved_jpeg(response, 0, dir, "night", "the cat, at night");
    seedream_response_free(response);
  }
  seedream_response_free(source);
}

int main(void) {
  char dir[] = "/tmp/seedream-save-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 2;
  }
  const char *base_url = env("SEEDREAM_TEST_BASE_URL");
  seedream_client *client = test_client(base_url, NULL, 1);
  if (client != NULL) {
    generate_save(client, dir);
    edit_save(client, dir);
  }
  seedream_client_free(client);
  moderated_image_has_no_file(base_url, dir);
  remove_dir(dir);
  return check_report("save");
}
