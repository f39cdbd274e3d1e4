// The C++17 wrapper (include/seedream.hpp): RAII objects, exceptions carrying the error details,
// a stream handler that stops early, and an exception thrown from a handler.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "seedream.hpp"

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                              \
    }                                                                          \
  } while (0)

static std::string env(const char *name) {
  const char *value = std::getenv(name);
  if (value == nullptr) {
    std::fprintf(stderr, "missing environment variable %s\n", name);
    std::exit(2);
  }
  return value;
}

static const std::string GROUP =
    R"({"model":"doubao-seedream-4-0-250828","prompt":"p","size":"1K","response_format":"b64_json",)"
    R"("sequential_image_generation":"auto","sequential_image_generation_options":{"max_images":3}})";

static void validation() {
  seedream::Validation valid = seedream::validate(GROUP);
  CHECK(valid.is_valid());
  seedream::Validation invalid =
      seedream::validate(R"({"model":"doubao-seedream-4-5-251128","prompt":"p","size":"1K"})");
  CHECK(!invalid.is_valid());
  CHECK(invalid.violations().size() == 1 && invalid.violations()[0].field == "size");
  CHECK(invalid.violations()[0].code == "size");
  try {
    seedream::validate("{");
    CHECK(false);
  } catch (const seedream::Error &e) {
    CHECK(e.code() == SEEDREAM_RESULT_INVALID_JSON);
    CHECK(std::string(e.what()).size() > 0);
  }
}

static void generate(const seedream::Client &client) {
  seedream::Response response = client.generate(GROUP);
  CHECK(response.size() == 3);
  for (std::size_t i = 0; i < response.size(); i++) {
    CHECK(response.succeeded(i));
    seedream::ByteView jpeg = response.bytes(i);
    CHECK(jpeg.size > 2 && jpeg.data[0] == 0xFF && jpeg.data[1] == 0xD8);
    CHECK(response.width(i) == 1024 && response.height(i) == 1024);
  }
  CHECK(response.usage().has_value() && response.usage()->generated_images == 3);
  CHECK(response.json().find("\"data\"") != std::string_view::npos);
  CHECK(!response.request_id().empty());
  try {
    response.bytes(3);
    CHECK(false);
  } catch (const seedream::Error &e) {
    CHECK(e.code() == SEEDREAM_RESULT_INVALID_ARGUMENT);
  }
  // Moving transfers ownership: exactly one free.
  seedream::Response moved = std::move(response);
  CHECK(moved.size() == 3);
}

// generate_save and edit_save: files in a folder, each named by Response::path; a bad stem throws.
static void save(const seedream::Client &client) {
  char dir[] = "/tmp/seedream-wrapper-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    CHECK(false);
    return;
  }
  seedream::Response saved = client.generate_save(GROUP, dir, "group");
  CHECK(saved.size() == 3);
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < saved.size(); i++) {
    std::string path(saved.path(i));
    CHECK(path == std::string(dir) + "/group-" + std::to_string(i) + ".jpg");
    paths.push_back(path);
  }
  CHECK(saved.path(3).empty());
  seedream::Response source = client.generate(GROUP);
  seedream::Response edited = client.edit_save(
      R"({"model":"doubao-seedream-4-0-250828","prompt":"p","size":"1K","response_format":"b64_json"})",
      {source.bytes(0)}, dir, "edited");
  CHECK(std::string(edited.path(0)) == std::string(dir) + "/edited-0.jpg");
  paths.push_back(std::string(edited.path(0)));
  try {
    client.generate_save(GROUP, dir, "../up");
    CHECK(false);
  } catch (const seedream::Error &e) {
    CHECK(e.code() == SEEDREAM_RESULT_INVALID_ARGUMENT);
  }
  for (const std::string &path : paths) CHECK(std::remove(path.c_str()) == 0);
  CHECK(rmdir(dir) == 0);
}

static void stream(const seedream::Client &client) {
  int events = 0;
  client.generate_stream(GROUP, [&](const seedream::StreamEvent &event) {
    events++;
    CHECK(event.type() == SEEDREAM_EVENT_TYPE_PARTIAL_SUCCEEDED);
    CHECK(!event.bytes().empty());
    return false;  // stop after the first event
  });
  CHECK(events == 1);

  int seen = 0;
  bool completed = false;
  client.generate_stream(GROUP, [&](const seedream::StreamEvent &event) {
    seen++;
    if (event.type() == SEEDREAM_EVENT_TYPE_COMPLETED) completed = event.usage().has_value();
    return true;
  });
  CHECK(seen == 4 && completed);

  // An exception in the handler stops the stream and comes out of generate_stream unchanged.
  try {
    client.generate_stream(GROUP, [](const seedream::StreamEvent &) -> bool { throw std::logic_error("from handler"); });
    CHECK(false);
  } catch (const std::logic_error &e) {
    CHECK(std::string(e.what()) == "from handler");
  }
}

static void errors(const std::string &base_url) {
  try {
    seedream::Client client = seedream::ClientBuilder().base_url(base_url).api_key("wrong").max_attempts(1).build();
    client.generate(GROUP);
    CHECK(false);
  } catch (const seedream::Error &e) {
    CHECK(e.code() == SEEDREAM_RESULT_AUTHENTICATION);
    CHECK(e.http_status() == 401);
    CHECK(e.api_code() == "AuthenticationError");
    CHECK(!e.retryable());
  }
  try {
    seedream::ClientBuilder().max_attempts(0);
    CHECK(false);
  } catch (const seedream::Error &e) {
    CHECK(e.code() == SEEDREAM_RESULT_INVALID_ARGUMENT);
  }
  try {
    seedream::ClientBuilder().base_url(base_url).build();  // no key
    CHECK(false);
  } catch (const seedream::Error &e) {
    CHECK(e.code() == SEEDREAM_RESULT_CONFIG);
  }
  seedream::Client quota = seedream::ClientBuilder()
                               .base_url(base_url)
                               .api_key(env("SEEDREAM_TEST_API_KEY"))
                               .header("x-emulator-fault", "quota")
                               .build();
  try {
    quota.generate(GROUP);
    CHECK(false);
  } catch (const seedream::Error &e) {
    CHECK(e.code() == SEEDREAM_RESULT_QUOTA_EXHAUSTED && e.http_status() == 429 && !e.request_id().empty());
  }
  seedream::Cancel cancel;
  cancel.cancel();
  try {
    quota.generate(GROUP, &cancel);
    CHECK(false);
  } catch (const seedream::Error &e) {
    CHECK(e.code() == SEEDREAM_RESULT_CANCELLED);
  }
  try {
    seedream::Client client = seedream::ClientBuilder().base_url(base_url).api_key("k").build();
    client.generate(R"({"model":"doubao-seedream-4-5-251128","prompt":"p","size":"1K","seed":1})");
    CHECK(false);
  } catch (const seedream::Error &e) {
    CHECK(e.code() == SEEDREAM_RESULT_INVALID_REQUEST && e.violations().size() == 2);
  }
}

/* Counts the log lines that name a request id; atomic: the callback may run on worker threads. */
static std::atomic<int> logged_request_ids{0};

static void count_request_ids(seedream_log_level, const char *message, void *) {
  if (std::strstr(message, "request_id=") != nullptr) logged_request_ids++;
}

static void builder_extras(const std::string &base_url) {
  seedream::Client logged = seedream::ClientBuilder()
                                .base_url(base_url)
                                .api_key(env("SEEDREAM_TEST_API_KEY"))
                                .log_callback(count_request_ids)
                                .build();
  auto response = logged.generate(R"({"model":"doubao-seedream-5-0-pro-260628","prompt":"p","size":"1K"})");
  (void)response;
  CHECK(logged_request_ids.load() >= 1);
  bool refused = false;
  try {
    seedream::ClientBuilder().catalog_json(R"({"families": [{"key": "seedream-4.0"}]})");
  } catch (const seedream::Error &e) {
    refused = e.code() == SEEDREAM_RESULT_INVALID_ARGUMENT &&
              std::string(e.what()).find("families[0]") != std::string::npos;
  }
  CHECK(refused);
}

static void formats(const seedream::Client &client, const std::string &base_url) {
  seedream::Response png = client.generate(
      R"({"model":"doubao-seedream-5-0-pro-260628","prompt":"p","size":"1K","output_format":"png",)"
      R"("response_format":"b64_json"})");
  CHECK(png.size() == 1 && png.format(0) == SEEDREAM_IMAGE_FORMAT_PNG);
  CHECK(png.mime_type(0) == "image/png" && png.extension(0) == "png");
  seedream::ByteView bytes = png.bytes(0);
  CHECK(bytes.size > 8 && bytes.data[0] == 0x89 && bytes.data[1] == 'P' && bytes.data[2] == 'N');
  CHECK(png.input_images() == std::optional<std::uint64_t>(0) && !png.web_searches());
  CHECK(!png.z_index(0) && !png.bounding_box(0) && png.name(0).empty() && png.description(0).empty());

  seedream::Response jpeg = client.generate(GROUP);
  CHECK(jpeg.format(0) == SEEDREAM_IMAGE_FORMAT_JPEG && jpeg.extension(0) == "jpg" && !jpeg.input_images());

  // Validation off: the service, not the library, refuses 4.5 with 1K.
  seedream::Client unchecked = seedream::ClientBuilder()
                                   .base_url(base_url)
                                   .api_key(env("SEEDREAM_TEST_API_KEY"))
                                   .max_attempts(1)
                                   .validate_requests(false)
                                   .build();
  try {
    unchecked.generate(R"({"model":"doubao-seedream-4-5-251128","prompt":"p","size":"1K"})");
    CHECK(false);
  } catch (const seedream::Error &e) {
    CHECK(e.code() == SEEDREAM_RESULT_API && e.http_status() == 400);
  }
}

int main() {
  const std::string base_url = env("SEEDREAM_TEST_BASE_URL");
  try {
    CHECK(!seedream::version().empty());
    validation();
    seedream::Client client =
        seedream::ClientBuilder().base_url(base_url).api_key(env("SEEDREAM_TEST_API_KEY")).max_attempts(1).build();
    generate(client);
    save(client);
    stream(client);
    formats(client, base_url);
    errors(base_url);
    builder_extras(base_url);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "unexpected exception: %s\n", e.what());
    failures++;
  }
  if (failures == 0) {
    std::printf("wrapper: all checks passed\n");
    return 0;
  }
  std::fprintf(stderr, "wrapper: %d check(s) failed\n", failures);
  return 1;
}
