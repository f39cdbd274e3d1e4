/* Cancelling long calls from another thread: generate and stream against a slow emulator. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>

#include "check.h"

#define REQUEST(stream)                                                                            \
  "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"slow\",\"size\":\"1K\",\"stream\":" stream \
  ",\"sequential_image_generation\":\"auto\",\"sequential_image_generation_options\":{\"max_images\":15}}"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct canceller {
  seedream_cancel *cancel;
  long delay_ms;
};

static void *cancel_later(void *arg) {
  struct canceller *c = arg;
  struct timespec pause = {c->delay_ms / 1000, (c->delay_ms % 1000) * 1000000L};
  nanosleep(&pause, NULL);
  seedream_cancel_cancel(c->cancel);
  return NULL;
}

static int count_events(void *userdata, const seedream_stream_event *event) {
  (void)event;
  (*(int *)userdata)++;
  return SEEDREAM_STREAM_CONTINUE;
}

static void cancel_generate(seedream_client *slow) {
  seedream_cancel *cancel = seedream_cancel_new();
  struct canceller canceller = {cancel, 500};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, cancel_later, &canceller) == 0);
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  double start = now();
  /* 15 images at the slow emulator's pace would take far longer than the time limit below. */
  CHECK_RESULT(seedream_client_generate(slow, REQUEST("false"), cancel, &response, &error), SEEDREAM_RESULT_CANCELLED,
               error);
  double elapsed = now() - start;
  pthread_join(thread, NULL);
  CHECK(response == NULL);
  CHECK(error != NULL && seedream_error_code(error) == SEEDREAM_RESULT_CANCELLED);
  CHECK(elapsed >= 0.4 && elapsed < 10.0);
  seedream_error_free(error);

  /* A cancelled token stays cancelled: the next call returns at once. */
  start = now();
  CHECK_RESULT(seedream_client_generate(slow, REQUEST("false"), cancel, &response, NULL), SEEDREAM_RESULT_CANCELLED,
               NULL);
  CHECK(now() - start < 5.0);
  seedream_cancel_free(cancel);
}

static void cancel_stream(seedream_client *slow) {
  seedream_cancel *cancel = seedream_cancel_new();
  struct canceller canceller = {cancel, 500};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, cancel_later, &canceller) == 0);
  int events = 0;
  double start = now();
  CHECK_RESULT(seedream_client_generate_stream(slow, REQUEST("true"), count_events, &events, cancel, NULL),
               SEEDREAM_RESULT_CANCELLED, NULL);
  pthread_join(thread, NULL);
  CHECK(now() - start < 10.0);
  CHECK(events < 15);
  seedream_cancel_free(cancel);
}

static void client_still_works_after_a_cancel(seedream_client *slow) {
  seedream_response *response = NULL;
  const char *one = "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"one\",\"size\":\"1K\"}";
  CHECK_RESULT(seedream_client_generate(slow, one, NULL, &response, NULL), SEEDREAM_RESULT_OK, NULL);
  CHECK(seedream_response_image_count(response) == 1);
  seedream_response_free(response);
}

int main(void) {
  seedream_client *slow = test_client(env("SEEDREAM_TEST_SLOW_URL"), NULL, 1);
  if (slow != NULL) {
    cancel_generate(slow);
    cancel_stream(slow);
    client_still_works_after_a_cancel(slow);
  }
  seedream_client_free(slow);
  return check_report("cancel");
}
