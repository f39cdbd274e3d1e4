/* Bounded resources and hostile servers through the C ABI, run by c_hosts.rs under
 * `prlimit --nofile=256` (and valgrind):
 * - a response with 1 500 links downloads them all within 256 descriptors (4 at a time, a finite
 *   idle pool), the peak of open descriptors and the peak RSS printed for the record;
 * - with downloads off, seedream_client_download_image fetches only the images asked for;
 * - a server echoing the API key gets it redacted in seedream_error_message;
 * - a proxy that cannot be reached is a transport error naming it without its credentials;
 *   set_no_proxy ignores the proxy variables of the environment. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"

static const char *REQUEST =
    "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"many\",\"size\":\"1K\",\"response_format\":\"url\"}";

static int open_descriptors(void) {
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) return -1;
  int count = 0;
  while (readdir(dir) != NULL) count++;
  closedir(dir);
  return count - 3; /* ".", ".." and the directory's own descriptor */
}

static long peak_rss_kb(void) {
  FILE *status = fopen("/proc/self/status", "r");
  if (status == NULL) return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof line, status) != NULL)
    if (strncmp(line, "VmHWM:", 6) == 0) kb = strtol(line + 6, NULL, 10);
  fclose(status);
  return kb;
}

static atomic_int sampling = 1;
static atomic_int peak_fds = 0;

static void *sample_descriptors(void *unused) {
  (void)unused;
  struct timespec pause = {0, 2 * 1000 * 1000};
  while (atomic_load(&sampling)) {
    int now = open_descriptors();
    if (now > atomic_load(&peak_fds)) atomic_store(&peak_fds, now);
    nanosleep(&pause, NULL);
  }
  return NULL;
}

static seedream_client *client_for(const char *base_url, const char *key, bool download, const char *proxy,
                                   bool no_proxy) {
  seedream_client_builder *builder = seedream_client_builder_new();
  CHECK_RESULT(seedream_client_builder_set_base_url(builder, base_url), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_set_api_key(builder, key), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_set_max_attempts(builder, 1), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_set_download_images(builder, download), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_set_timeouts(builder, 5000, 60000, 30000, 120000), SEEDREAM_RESULT_OK, NULL);
  if (proxy != NULL) CHECK_RESULT(seedream_client_builder_set_proxy(builder, proxy), SEEDREAM_RESULT_OK, NULL);
  if (no_proxy) CHECK_RESULT(seedream_client_builder_set_no_proxy(builder, true), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_set_max_parallel_downloads(builder, 0), SEEDREAM_RESULT_INVALID_ARGUMENT, NULL);
  seedream_client *client = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_builder_build(builder, &client, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  seedream_client_builder_free(builder);
  return client;
}

static void many_links_within_the_descriptor_limit(const char *base_url, const char *key) {
  seedream_client *client = client_for(base_url, key, true, NULL, true);
  if (client == NULL) return;
  pthread_t sampler;
  pthread_create(&sampler, NULL, sample_descriptors, NULL);
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate(client, REQUEST, NULL, &response, &error), SEEDREAM_RESULT_OK, error);
  atomic_store(&sampling, 0);
  pthread_join(sampler, NULL);
  seedream_error_free(error);
  if (response != NULL) {
    size_t count = seedream_response_image_count(response), fetched = 0;
    for (size_t i = 0; i < count; i++) {
      const uint8_t *data = NULL;
      size_t len = 0;
      if (seedream_response_image_bytes(response, i, &data, &len) == SEEDREAM_RESULT_OK && len > 0) fetched++;
    }
    CHECK(count == 1500);
    CHECK(fetched == count);
    printf("network: %zu of %zu links downloaded; peak open descriptors %d; peak RSS %ld kB\n", fetched, count,
           atomic_load(&peak_fds), peak_rss_kb());
    seedream_response_free(response);
  }
  CHECK(atomic_load(&peak_fds) < 64);
  seedream_client_free(client);
}

static void only_the_images_asked_for_are_downloaded(const char *base_url, const char *key) {
  seedream_client *client = client_for(base_url, key, false, NULL, true);
  if (client == NULL) return;
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate(client, REQUEST, NULL, &response, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  error = NULL;
  if (response != NULL) {
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK_RESULT(seedream_response_image_bytes(response, 7, &data, &len), SEEDREAM_RESULT_NOT_AVAILABLE, NULL);
    CHECK_RESULT(seedream_client_download_image(client, response, 7, NULL, &error), SEEDREAM_RESULT_OK, error);
    CHECK_RESULT(seedream_client_download_image(client, response, 7, NULL, &error), SEEDREAM_RESULT_OK, error);
    CHECK_RESULT(seedream_response_image_bytes(response, 7, &data, &len), SEEDREAM_RESULT_OK, NULL);
    CHECK(len > 0 && data[0] == 0xFF);
    CHECK_RESULT(seedream_response_image_bytes(response, 8, &data, &len), SEEDREAM_RESULT_NOT_AVAILABLE, NULL);
    CHECK(seedream_response_image_format(response, 7) == SEEDREAM_IMAGE_FORMAT_JPEG);
    CHECK_RESULT(seedream_client_download_image(client, response, 99999, NULL, &error),
                 SEEDREAM_RESULT_INVALID_ARGUMENT, error);
    seedream_error_free(error);
    error = NULL;
    CHECK_RESULT(seedream_client_download_image(client, NULL, 0, NULL, NULL), SEEDREAM_RESULT_NULL_PARAMETER, NULL);
    seedream_response_free(response);
  }
  seedream_client_free(client);
}

static void echoed_keys_are_redacted(const char *echo_url, const char *key) {
  seedream_client *client = client_for(echo_url, key, true, NULL, true);
  if (client == NULL) return;
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate(client, REQUEST, NULL, &response, &error), SEEDREAM_RESULT_AUTHENTICATION,
               error);
  if (error != NULL) {
    const char *message = seedream_error_message(error);
    CHECK(strstr(message, key) == NULL);
    CHECK(strstr(message, "<redacted>") != NULL);
    seedream_error_free(error);
  }
  seedream_client_free(client);
}

static void proxies(const char *base_url, const char *key, const char *closed_url) {
  /* closed_url is http://127.0.0.1:PORT/v1: the proxy is that address, with credentials. */
  char proxy[128], address[96];
  const char *host = closed_url + strlen("http://");
  size_t host_len = strcspn(host, "/");
  snprintf(address, sizeof address, "http://%.*s", (int)host_len, host);
  snprintf(proxy, sizeof proxy, "http://erin:CPROXYSECRET@%.*s", (int)host_len, host);

  seedream_client *client = client_for(base_url, key, true, proxy, false);
  if (client != NULL) {
    seedream_response *response = NULL;
    seedream_error *error = NULL;
    CHECK_RESULT(seedream_client_generate(client, REQUEST, NULL, &response, &error), SEEDREAM_RESULT_TRANSPORT,
                 error);
    if (error != NULL) {
      CHECK(strstr(seedream_error_message(error), address) != NULL);
      CHECK(strstr(seedream_error_message(error), "CPROXYSECRET") == NULL);
      seedream_error_free(error);
    }
    seedream_response_free(response);
    seedream_client_free(client);
  }

  /* The environment's proxy never takes a loopback host (Go's rule: it would reach its own loopback,
     and the key would cross the network in clear), so both clients reach the local server. */
  setenv("HTTP_PROXY", proxy, 1);
  seedream_client *from_env = client_for(base_url, key, false, NULL, false);
  seedream_client *direct = client_for(base_url, key, false, NULL, true);
  unsetenv("HTTP_PROXY");
  seedream_error *error = NULL;
  seedream_response *response = NULL;
  if (from_env != NULL)
    CHECK_RESULT(seedream_client_generate(from_env, REQUEST, NULL, &response, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  error = NULL;
  seedream_response_free(response);
  response = NULL;
  if (direct != NULL)
    CHECK_RESULT(seedream_client_generate(direct, REQUEST, NULL, &response, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  seedream_response_free(response);
  seedream_client_free(from_env);
  seedream_client_free(direct);
}

int main(void) {
  const char *key = env("SEEDREAM_TEST_API_KEY");
  many_links_within_the_descriptor_limit(env("SEEDREAM_TEST_MANY_URL"), key);
  only_the_images_asked_for_are_downloaded(env("SEEDREAM_TEST_MANY_URL"), key);
  echoed_keys_are_redacted(env("SEEDREAM_TEST_ECHO_URL"), key);
  proxies(env("SEEDREAM_TEST_MANY_URL"), key, env("SEEDREAM_TEST_CLOSED_URL"));
  return check_report("network");
}
