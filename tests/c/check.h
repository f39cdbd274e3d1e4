/* Shared helpers of the C host tests: CHECK counts failures instead of stopping, so one run
 * reports every wrong result; env() reads the emulator addresses the Rust driver passes. */
#ifndef SEEDREAM_TEST_CHECK_H
#define SEEDREAM_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seedream.h"

static int check_failures = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
      check_failures++;                                                          \
    }                                                                            \
  } while (0)

/* Checks that a call returned `expected`, printing the error's message when it did not. */
#define CHECK_RESULT(call, expected, error)                                                      \
  do {                                                                                           \
    seedream_result check_got_ = (call);                                                         \
    if (check_got_ != (expected)) {                                                              \
      fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d: %s\n", __FILE__, __LINE__, #call, \
              (int)check_got_, seedream_result_name((int)check_got_), (int)(expected),           \
              (error) ? seedream_error_message(error) : "(no error object)");                    \
      check_failures++;                                                                          \
    }                                                                                            \
  } while (0)

#define CHECK_STR(actual, expected)                                                          \
  do {                                                                                       \
    const char *check_a_ = (actual);                                                         \
    if (check_a_ == NULL || strcmp(check_a_, (expected)) != 0) {                             \
      fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #actual, \
              check_a_ ? check_a_ : "(null)", (expected));                                   \
      check_failures++;                                                                      \
    }                                                                                        \
  } while (0)

/* A required environment variable; exits with status 2 when missing. */
static inline const char *env(const char *name) {
  const char *value = getenv(name);
  if (value == NULL || value[0] == '\0') {
    fprintf(stderr, "missing environment variable %s (set by crates/seedream-ffi/tests/c_hosts.rs)\n", name);
    exit(2);
  }
  return value;
}

/* The program's exit status: 0 when every check passed. */
static inline int check_report(const char *program) {
  if (check_failures == 0) {
    printf("%s: all checks passed\n", program);
    return 0;
  }
  fprintf(stderr, "%s: %d check(s) failed\n", program, check_failures);
  return 1;
}

/* Builds a client from `builder` (which it frees) for `base_url` with the test key and extra header
 * `fault` (NULL for none). Returns NULL (after counting a failure) when it cannot be built. */
static inline seedream_client *test_client_from(seedream_client_builder *builder, const char *base_url,
                                                const char *fault, uint32_t max_attempts) {
  seedream_client *client = NULL;
  seedream_error *error = NULL;
  CHECK(builder != NULL);
  CHECK_RESULT(seedream_client_builder_set_base_url(builder, base_url), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_set_api_key(builder, env("SEEDREAM_TEST_API_KEY")), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_set_max_attempts(builder, max_attempts), SEEDREAM_RESULT_OK, NULL);
  if (fault != NULL) {
    CHECK_RESULT(seedream_client_builder_add_header(builder, "x-emulator-fault", fault), SEEDREAM_RESULT_OK, NULL);
  }
  CHECK_RESULT(seedream_client_builder_build(builder, &client, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  seedream_client_builder_free(builder);
  return client;
}

/* A client as `test_client_from` builds it, from a new builder. */
static inline seedream_client *test_client(const char *base_url, const char *fault, uint32_t max_attempts) {
  return test_client_from(seedream_client_builder_new(), base_url, fault, max_attempts);
}

#endif /* SEEDREAM_TEST_CHECK_H */
