// seedream.hpp: a header-only C++17 wrapper over the C API in seedream.h.
//
// - Every library object is held by an RAII type (move-only, freed in its destructor): no leaks by
//   construction, no manual `_free` calls.
// - Errors are reported by exceptions: every failing call throws `seedream::Error`, which carries the
//   result code, HTTP status, the service's error code, message and request id, and for invalid
//   requests every violation. Accessors that merely find nothing return empty values instead.
// - Threads: a `Client` may be used from several threads at once; `Cancel::cancel` may be called from
//   any thread. `Response` and `Validation` are immutable once returned.
// - Stream callbacks run on the calling thread. An exception thrown by a callback stops the stream and
//   is rethrown by `Client::generate_stream` once the library has returned (it never crosses the C
//   boundary).
//
// Link exactly as for the C API (`pkg-config --cflags --libs seedream`, or CMake's
// `seedream::seedream`); see include/README.md.
#ifndef SEEDREAM_HPP
#define SEEDREAM_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "seedream.h"

namespace seedream {

/// The library version, such as "0.1.0".
inline std::string version() { return seedream_version(); }

/// One broken rule of a request (or one warning): the field path and the rule in words.
struct Violation {
  std::string field;
  std::string message;
  /// The rule broken, as a short word (`size`, `range`, ...); "" for a warning.
  std::string code;
};

/// Bytes lent by the library or by the caller: `size` bytes at `data`. Does not own them.
struct ByteView {
  const std::uint8_t *data = nullptr;
  std::size_t size = 0;

  bool empty() const noexcept { return size == 0; }
};

/// Usage as the service reports it; unreported counts are 0.
using Usage = seedream_usage;
/// Where a layer sits on the base image (layer decomposition): check `has_absolute`, `has_normalized`.
using BoundingBox = seedream_bounding_box;
/// An image's file format (`SEEDREAM_IMAGE_FORMAT_PNG`, ...).
using ImageFormat = seedream_image_format;

namespace detail {

template <class T, void (*Free)(T *)>
struct Deleter {
  void operator()(T *object) const noexcept { Free(object); }
};

/// Owns one library object and frees it with its `_free`.
template <class T, void (*Free)(T *)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

inline std::string text(const char *value) { return value ? std::string(value) : std::string(); }

inline std::string_view view(const char *value) { return value ? std::string_view(value) : std::string_view(); }

}  // namespace detail

/// A failed call. `what()` is the library's message (it never contains the API key).
class Error : public std::runtime_error {
 public:
  /// Takes the details from `error` (which may be NULL) and frees it.
  Error(seedream_result code, seedream_error *error)
      : std::runtime_error(message_of(code, error)),
        code_(code),
        http_status_(seedream_error_http_status(error)),
        api_code_(detail::text(seedream_error_api_code(error))),
        request_id_(detail::text(seedream_error_request_id(error))),
        client_request_id_(detail::text(seedream_error_client_request_id(error))),
        param_(detail::text(seedream_error_param(error))),
        retryable_(seedream_error_is_retryable(error)),
        retry_after_ms_(seedream_error_retry_after_ms(error)) {
    for (std::size_t i = 0, n = seedream_error_violation_count(error); i < n; i++) {
      violations_.push_back({detail::text(seedream_error_violation_field(error, i)),
                             detail::text(seedream_error_violation_message(error, i)),
                             detail::text(seedream_error_violation_code(error, i))});
    }
    seedream_error_free(error);
  }

  /// The result code (never `SEEDREAM_RESULT_OK`).
  seedream_result code() const noexcept { return code_; }
  /// The HTTP status of an API error; 0 when the error did not come from the service.
  std::uint16_t http_status() const noexcept { return http_status_; }
  /// The service's error code, such as "QuotaExceeded"; empty when there is none.
  const std::string &api_code() const noexcept { return api_code_; }
  /// The service's request id; empty when there is none.
  const std::string &request_id() const noexcept { return request_id_; }
  /// The X-Client-Request-Id the call sent (also after a timeout); empty when nothing was sent.
  const std::string &client_request_id() const noexcept { return client_request_id_; }
  /// The request field the service blamed; empty when it named none.
  const std::string &param() const noexcept { return param_; }
  /// Whether the same request may succeed later (rate limits, 5xx, refused connections).
  bool retryable() const noexcept { return retryable_; }
  /// The wait the service asked for, in milliseconds; 0 when it did not say.
  std::uint64_t retry_after_ms() const noexcept { return retry_after_ms_; }
  /// For `SEEDREAM_RESULT_INVALID_REQUEST`: every broken rule.
  const std::vector<Violation> &violations() const noexcept { return violations_; }

 private:
  static std::string message_of(seedream_result code, const seedream_error *error) {
    const char *message = seedream_error_message(error);
    return message ? std::string(message) : std::string(seedream_result_name(static_cast<int>(code)));
  }

  seedream_result code_;
  std::uint16_t http_status_;
  std::string api_code_;
  std::string request_id_;
  std::string client_request_id_;
  std::string param_;
  bool retryable_;
  std::uint64_t retry_after_ms_;
  std::vector<Violation> violations_;
};

namespace detail {

/// Throws `Error` for a failed call; frees `error` either way. Call it with the result stored first:
/// `check(call(&error), error)` may read `error` before the call has written it.
inline void check(seedream_result code, seedream_error *error) {
  if (code != SEEDREAM_RESULT_OK) throw Error(code, error);
  seedream_error_free(error);
}

}  // namespace detail

/// The outcome of validating a request without any network.
class Validation {
 public:
  /// Whether the request breaks no rule (warnings do not count).
  bool is_valid() const noexcept { return violations_.empty(); }
  /// Every broken rule, each with its field path (`size`, `image[3]`, ...).
  const std::vector<Violation> &violations() const noexcept { return violations_; }
  /// Advice that does not make the request invalid (such as a prompt longer than advised).
  const std::vector<Violation> &warnings() const noexcept { return warnings_; }

 private:
  friend Validation validate(const std::string &request_json);
  std::vector<Violation> violations_;
  std::vector<Violation> warnings_;
};

/// Validates a generations request body (JSON) against its model's rules. Throws `Error`
/// (`SEEDREAM_RESULT_INVALID_JSON`) when the text is not a request.
inline Validation validate(const std::string &request_json) {
  seedream_validation *raw = nullptr;
  seedream_error *error = nullptr;
  // The call must run before `error` is read: never both in one argument list.
  seedream_result code = seedream_request_validate(request_json.c_str(), &raw, &error);
  detail::check(code, error);
  detail::Handle<seedream_validation, seedream_validation_free> owned(raw);
  Validation result;
  for (std::size_t i = 0, n = seedream_validation_violation_count(raw); i < n; i++) {
    result.violations_.push_back({detail::text(seedream_validation_violation_field(raw, i)),
                                  detail::text(seedream_validation_violation_message(raw, i)),
                                  detail::text(seedream_validation_violation_code(raw, i))});
  }
  for (std::size_t i = 0, n = seedream_validation_warning_count(raw); i < n; i++) {
    result.warnings_.push_back({detail::text(seedream_validation_warning_field(raw, i)),
                                detail::text(seedream_validation_warning_message(raw, i)), std::string()});
  }
  return result;
}

/// A cancellation token: pass it to calls, then `cancel()` from any thread to make them throw
/// `Error` with `SEEDREAM_RESULT_CANCELLED`. Must outlive the calls that use it.
class Cancel {
 public:
  Cancel() : handle_(seedream_cancel_new()) {}

  /// Cancels every call using the token, now and later. Thread-safe.
  void cancel() const noexcept { seedream_cancel_cancel(handle_.get()); }
  /// Whether `cancel()` was called.
  bool is_cancelled() const noexcept { return seedream_cancel_is_cancelled(handle_.get()); }
  /// The C token.
  const seedream_cancel *get() const noexcept { return handle_.get(); }

 private:
  detail::Handle<seedream_cancel, seedream_cancel_free> handle_;
};

/// The response of a generate or edit call: one entry per image, each a success or a per-image
/// error. Views it returns (strings, bytes) live as long as the response.
class Response {
 public:
  explicit Response(seedream_response *raw) : handle_(raw) {}

  /// The number of images, failed ones included.
  std::size_t size() const noexcept { return seedream_response_image_count(get()); }
  /// Whether image `index` succeeded.
  bool succeeded(std::size_t index) const noexcept { return seedream_response_image_succeeded(get(), index); }
  /// The image's link; empty for `b64_json` responses and failed images.
  std::string_view url(std::size_t index) const noexcept {
    return detail::view(seedream_response_image_url(get(), index));
  }
  /// The image's bytes (JPEG, PNG, ...: see `format`); throws `Error` when they are not available
  /// (failed image, downloads turned off, index out of range).
  ByteView bytes(std::size_t index) const {
    ByteView out;
    seedream_error *error = nullptr;
    seedream_result code = seedream_response_image_bytes(get(), index, &out.data, &out.size);
    detail::check(code, error);
    return out;
  }
  /// The file the image was saved to by `generate_save` or `edit_save`; empty when it was not saved.
  std::string_view path(std::size_t index) const noexcept {
    return detail::view(seedream_response_image_path(get(), index));
  }
  /// The image's file format, from its bytes, else as the response states it; unknown when neither tells.
  ImageFormat format(std::size_t index) const noexcept { return seedream_response_image_format(get(), index); }
  /// The image's media type, such as "image/png"; empty when unknown.
  std::string_view mime_type(std::size_t index) const noexcept {
    return detail::view(seedream_response_image_mime_type(get(), index));
  }
  /// The image's file extension without a dot ("png", "jpg"); empty when unknown. Name saved files with it.
  std::string_view extension(std::size_t index) const noexcept {
    return detail::view(seedream_response_image_extension(get(), index));
  }
  /// Layer decomposition: 0 for the base image, then 1, 2, ... from the bottom up; none otherwise.
  std::optional<std::int64_t> z_index(std::size_t index) const noexcept {
    std::int64_t z = 0;
    if (seedream_response_image_z_index(get(), index, &z) != SEEDREAM_RESULT_OK) return std::nullopt;
    return z;
  }
  /// Layer decomposition: where the layer sits on the base image; none for the base image.
  std::optional<BoundingBox> bounding_box(std::size_t index) const noexcept {
    BoundingBox box{};
    if (seedream_response_image_bounding_box(get(), index, &box) != SEEDREAM_RESULT_OK) return std::nullopt;
    return box;
  }
  /// Layer decomposition: the layer's short name; empty when none.
  std::string_view name(std::size_t index) const noexcept {
    return detail::view(seedream_response_image_name(get(), index));
  }
  /// Layer decomposition: what the layer shows; empty when none.
  std::string_view description(std::size_t index) const noexcept {
    return detail::view(seedream_response_image_description(get(), index));
  }
  /// Width in pixels; 0 when unknown.
  std::uint32_t width(std::size_t index) const noexcept { return seedream_response_image_width(get(), index); }
  /// Height in pixels; 0 when unknown.
  std::uint32_t height(std::size_t index) const noexcept { return seedream_response_image_height(get(), index); }
  /// For a failed image: the service's code, such as "OutputImageSensitiveContentDetected".
  std::string_view error_code(std::size_t index) const noexcept {
    return detail::view(seedream_response_image_error_code(get(), index));
  }
  /// For a failed image: the service's message.
  std::string_view error_message(std::size_t index) const noexcept {
    return detail::view(seedream_response_image_error_message(get(), index));
  }
  /// The usage, when the service reported one.
  std::optional<Usage> usage() const noexcept {
    Usage usage{};
    if (seedream_response_usage(get(), &usage) != SEEDREAM_RESULT_OK) return std::nullopt;
    return usage;
  }
  /// `usage.input_images` (5.0 pro and flash), when the service reported it.
  std::optional<std::uint64_t> input_images() const noexcept {
    std::uint64_t count = 0;
    if (seedream_response_usage_input_images(get(), &count) != SEEDREAM_RESULT_OK) return std::nullopt;
    return count;
  }
  /// `usage.tool_usage.web_search` (5.0 lite with tools), when the service reported it.
  std::optional<std::uint64_t> web_searches() const noexcept {
    std::uint64_t count = 0;
    if (seedream_response_usage_web_searches(get(), &count) != SEEDREAM_RESULT_OK) return std::nullopt;
    return count;
  }
  /// The response as JSON.
  std::string_view json() const noexcept { return detail::view(seedream_response_json(get())); }
  /// The service's request id; empty when it sent none.
  std::string_view request_id() const noexcept { return detail::view(seedream_response_request_id(get())); }
  /// The X-Client-Request-Id the call sent.
  std::string_view client_request_id() const noexcept {
    return detail::view(seedream_response_client_request_id(get()));
  }
  /// How many attempts the call took.
  std::uint32_t attempts() const noexcept { return seedream_response_attempts(get()); }
  /// The C response (owned by this object).
  const seedream_response *get() const noexcept { return handle_.get(); }

 private:
  detail::Handle<seedream_response, seedream_response_free> handle_;
};

/// One stream event, valid only during the callback it is given to.
class StreamEvent {
 public:
  explicit StreamEvent(const seedream_stream_event *raw) noexcept : raw_(raw) {}

  /// The kind of event.
  seedream_event_type type() const noexcept { return seedream_stream_event_type(raw_); }
  /// The image's position in the group.
  std::uint32_t image_index() const noexcept { return seedream_stream_event_image_index(raw_); }
  /// The image's link; empty for `b64_json` streams and other events.
  std::string_view url() const noexcept { return detail::view(seedream_stream_event_url(raw_)); }
  /// The image's file format; unknown for other events.
  ImageFormat format() const noexcept { return seedream_stream_event_image_format(raw_); }
  /// The image's media type, such as "image/png"; empty when unknown.
  std::string_view mime_type() const noexcept { return detail::view(seedream_stream_event_image_mime_type(raw_)); }
  /// The image's file extension without a dot ("png", "jpg"); empty when unknown.
  std::string_view extension() const noexcept { return detail::view(seedream_stream_event_image_extension(raw_)); }
  /// The image's bytes (JPEG, PNG, ...: see `format`); empty when the event has none.
  ByteView bytes() const noexcept {
    ByteView out;
    if (seedream_stream_event_bytes(raw_, &out.data, &out.size) != SEEDREAM_RESULT_OK) return ByteView{};
    return out;
  }
  /// Width in pixels; 0 when unknown.
  std::uint32_t width() const noexcept { return seedream_stream_event_width(raw_); }
  /// Height in pixels; 0 when unknown.
  std::uint32_t height() const noexcept { return seedream_stream_event_height(raw_); }
  /// For a failed image: the service's code.
  std::string_view error_code() const noexcept { return detail::view(seedream_stream_event_error_code(raw_)); }
  /// For a failed image: the service's message.
  std::string_view error_message() const noexcept {
    return detail::view(seedream_stream_event_error_message(raw_));
  }
  /// For the completed event: the usage.
  std::optional<Usage> usage() const noexcept {
    Usage usage{};
    if (seedream_stream_event_usage(raw_, &usage) != SEEDREAM_RESULT_OK) return std::nullopt;
    return usage;
  }
  /// For the completed event: `usage.tool_usage.web_search`, when reported.
  std::optional<std::uint64_t> web_searches() const noexcept {
    std::uint64_t count = 0;
    if (seedream_stream_event_usage_web_searches(raw_, &count) != SEEDREAM_RESULT_OK) return std::nullopt;
    return count;
  }
  /// The event as JSON.
  std::string_view json() const noexcept { return detail::view(seedream_stream_event_json(raw_)); }

 private:
  const seedream_stream_event *raw_;
};

class Client;

/// Settings for a `Client`; see the `seedream_client_builder_*` functions for the defaults.
class ClientBuilder {
 public:
  ClientBuilder() : handle_(seedream_client_builder_new()) {}

  /// The API base URL, such as a relay's "https://host/v1" (default: Ark's).
  ClientBuilder &base_url(const std::string &url) { return set(seedream_client_builder_set_base_url(get(), url.c_str())); }
  /// The API key. Required.
  ClientBuilder &api_key(const std::string &key) { return set(seedream_client_builder_set_api_key(get(), key.c_str())); }
  /// Time limits; zero keeps a limit's default (overall: no deadline).
  ClientBuilder &timeouts(std::chrono::milliseconds connect, std::chrono::milliseconds headers,
                          std::chrono::milliseconds idle, std::chrono::milliseconds overall) {
    return set(seedream_client_builder_set_timeouts(get(), ms(connect), ms(headers), ms(idle), ms(overall)));
  }
  /// Attempts in all, the first included (default 3).
  ClientBuilder &max_attempts(std::uint32_t attempts) {
    return set(seedream_client_builder_set_max_attempts(get(), attempts));
  }
  /// Also trusts the certificate(s) in this PEM text.
  ClientBuilder &trust_certificate_pem(std::string_view pem) {
    return set(seedream_client_builder_add_trusted_certificate(
        get(), reinterpret_cast<const std::uint8_t *>(pem.data()), pem.size()));
  }
  /// A header sent with every API request.
  ClientBuilder &header(const std::string &name, const std::string &value) {
    return set(seedream_client_builder_add_header(get(), name.c_str(), value.c_str()));
  }
  /// Whether `url` images are downloaded by generate and edit (default true).
  ClientBuilder &download_images(bool download) {
    return set(seedream_client_builder_set_download_images(get(), download));
  }
  /// Whether requests are checked against their model's rules before sending (default true).
  ClientBuilder &validate_requests(bool validate) {
    return set(seedream_client_builder_set_validate_requests(get(), validate));
  }
  /// Whether plain http:// to a non-loopback host is allowed (default false).
  ClientBuilder &allow_insecure_http(bool allow) {
    return set(seedream_client_builder_set_allow_insecure_http(get(), allow));
  }
  /// Worker threads of the client's runtime (default 2).
  ClientBuilder &worker_threads(std::size_t threads) {
    return set(seedream_client_builder_set_worker_threads(get(), threads));
  }
  /// Extends the model catalog with a catalog file's text (`{"families": [...]}`, as `seedream models
  /// --json` prints it); throws `Error` (`SEEDREAM_RESULT_INVALID_ARGUMENT`, naming the row and field).
  ClientBuilder &catalog_json(std::string_view json) {
    seedream_error *error = nullptr;
    seedream_result code = seedream_client_builder_set_catalog_json(
        get(), reinterpret_cast<const std::uint8_t *>(json.data()), json.size(), &error);
    detail::check(code, error);
    return *this;
  }
  /// Hands the client's log lines to `callback` with `user_data` (see
  /// `seedream_client_builder_set_log_callback`). A plain function: it may run on any of the client's
  /// threads and must not throw; `user_data` must outlive the client.
  ClientBuilder &log_callback(seedream_log_callback callback, void *user_data = nullptr) {
    return set(seedream_client_builder_set_log_callback(get(), callback, user_data));
  }
  /// Builds a client; throws `Error` (typically `SEEDREAM_RESULT_CONFIG`).
  Client build() const;

 private:
  seedream_client_builder *get() const noexcept { return handle_.get(); }
  static std::uint64_t ms(std::chrono::milliseconds value) {
    return value.count() < 0 ? 0 : static_cast<std::uint64_t>(value.count());
  }
  ClientBuilder &set(seedream_result code) {
    detail::check(code, nullptr);
    return *this;
  }

  detail::Handle<seedream_client_builder, seedream_client_builder_free> handle_;
};

/// A client with its own runtime. Thread-safe; move-only.
class Client {
 public:
  /// Called per stream event; return true for the next event, false to stop the stream.
  using StreamHandler = std::function<bool(const StreamEvent &)>;

  explicit Client(seedream_client *raw) : handle_(raw) {}

  /// Generates images from a request body (JSON). Throws `Error`.
  Response generate(const std::string &request_json, const Cancel *cancel = nullptr) const {
    seedream_response *raw = nullptr;
    seedream_error *error = nullptr;
    seedream_result code = seedream_client_generate(get(), request_json.c_str(), token(cancel), &raw, &error);
    detail::check(code, error);
    return Response(raw);
  }

  /// Streams a generation, calling `on_event` per event on this thread until the stream ends or
  /// `on_event` returns false. Throws `Error`, or rethrows what `on_event` threw.
  void generate_stream(const std::string &request_json, const StreamHandler &on_event,
                       const Cancel *cancel = nullptr) const {
    Trampoline trampoline{&on_event, nullptr};
    seedream_error *error = nullptr;
    seedream_result code = seedream_client_generate_stream(get(), request_json.c_str(), &Trampoline::call,
                                                           &trampoline, token(cancel), &error);
    if (trampoline.exception) {
      seedream_error_free(error);
      std::rethrow_exception(trampoline.exception);
    }
    detail::check(code, error);
  }

  /// Edits images given in memory. `params_json` holds model, prompt and optional n, size,
  /// response_format, watermark, seed, guidance_scale, output_format, background,
  /// optimize_prompt_options, tools, stream (see `seedream_client_edit`). Throws `Error`.
  Response edit(const std::string &params_json, const std::vector<ByteView> &images, ByteView mask = {},
                const Cancel *cancel = nullptr) const {
    std::vector<seedream_buffer> buffers;
    buffers.reserve(images.size());
    for (const ByteView &image : images) buffers.push_back(seedream_buffer{image.data, image.size});
    seedream_response *raw = nullptr;
    seedream_error *error = nullptr;
    seedream_result code = seedream_client_edit(get(), params_json.c_str(), buffers.data(), buffers.size(),
                                                mask.data, mask.size, token(cancel), &raw, &error);
    detail::check(code, error);
    return Response(raw);
  }

  /// Generates images and streams them into `dir` as `<stem>-<index>.<extension>`, with provenance,
  /// under atomic names (see `seedream_client_generate_save`); `Response::path` names each file.
  /// Throws `Error`.
  Response generate_save(const std::string &request_json, const std::string &dir, const std::string &stem,
                         const Cancel *cancel = nullptr) const {
    seedream_response *raw = nullptr;
    seedream_error *error = nullptr;
    seedream_result code = seedream_client_generate_save(get(), request_json.c_str(), dir.c_str(), stem.c_str(),
                                                         token(cancel), &raw, &error);
    detail::check(code, error);
    return Response(raw);
  }

  /// Edits images given in memory, as `edit`, and saves the results as `generate_save` does. Throws `Error`.
  Response edit_save(const std::string &params_json, const std::vector<ByteView> &images, const std::string &dir,
                     const std::string &stem, ByteView mask = {}, const Cancel *cancel = nullptr) const {
    std::vector<seedream_buffer> buffers;
    buffers.reserve(images.size());
    for (const ByteView &image : images) buffers.push_back(seedream_buffer{image.data, image.size});
    seedream_response *raw = nullptr;
    seedream_error *error = nullptr;
    seedream_result code =
        seedream_client_edit_save(get(), params_json.c_str(), buffers.data(), buffers.size(), mask.data, mask.size,
                                  dir.c_str(), stem.c_str(), token(cancel), &raw, &error);
    detail::check(code, error);
    return Response(raw);
  }

  /// The C client (owned by this object).
  const seedream_client *get() const noexcept { return handle_.get(); }

 private:
  struct Trampoline {
    const StreamHandler *handler;
    std::exception_ptr exception;

    static int call(void *userdata, const seedream_stream_event *event) {
      auto *self = static_cast<Trampoline *>(userdata);
      try {
        return (*self->handler)(StreamEvent(event)) ? SEEDREAM_STREAM_CONTINUE : SEEDREAM_STREAM_STOP;
      } catch (...) {
        // Never let an exception cross the C boundary: stop, and rethrow after the call.
        self->exception = std::current_exception();
        return SEEDREAM_STREAM_STOP;
      }
    }
  };

  static const seedream_cancel *token(const Cancel *cancel) noexcept { return cancel ? cancel->get() : nullptr; }

  detail::Handle<seedream_client, seedream_client_free> handle_;
};

inline Client ClientBuilder::build() const {
  seedream_client *raw = nullptr;
  seedream_error *error = nullptr;
  seedream_result code = seedream_client_builder_build(get(), &raw, &error);
  detail::check(code, error);
  return Client(raw);
}

}  // namespace seedream

#endif  // SEEDREAM_HPP
