/* Image formats and layers against the emulator: Seedream 5.0 pro PNG output saved under the
 * extension the library names, JPEG stays JPEG, a streamed 5.0 lite PNG, layer decomposition of a
 * PNG built here (z-index, bounding boxes, names, descriptions, usage input_images), and the switch
 * that turns local validation off. */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>

#include "check.h"

#define PRO "\"model\":\"doubao-seedream-5-0-pro-260628\""
#define LITE "\"model\":\"doubao-seedream-5-0-260128\""

static const uint8_t PNG_SIGNATURE[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};

static int is_png(const uint8_t *data, size_t len) {
  return data != NULL && len > 8 && memcmp(data, PNG_SIGNATURE, 8) == 0;
}

/* ---- a valid PNG, built by hand: 8-bit grey, zlib with stored (uncompressed) deflate blocks ---- */

typedef struct {
  uint8_t *data;
  size_t len;
} bytes;

static uint32_t crc32_update(uint32_t crc, const uint8_t *data, size_t len) {
  crc = ~crc;
  for (size_t i = 0; i < len; i++) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

static void put32(uint8_t *at, uint32_t value) {
  at[0] = (uint8_t)(value >> 24);
  at[1] = (uint8_t)(value >> 16);
  at[2] = (uint8_t)(value >> 8);
  at[3] = (uint8_t)value;
}

/* Appends a chunk (length, type, data, CRC of type and data) at out->data + out->len. */
static void chunk(bytes *out, const char *type, const uint8_t *data, size_t len) {
  uint8_t *at = out->data + out->len;
  put32(at, (uint32_t)len);
  memcpy(at + 4, type, 4);
  if (len > 0) memcpy(at + 8, data, len);
  put32(at + 8 + len, crc32_update(0, at + 4, len + 4));
  out->len += 12 + len;
}

/* A width x height greyscale PNG with a diagonal gradient. The caller frees .data. */
static bytes make_png(uint32_t width, uint32_t height) {
  size_t row = 1 + (size_t)width; /* filter byte + pixels */
  size_t raw_len = row * height;
  size_t blocks = (raw_len + 65534) / 65535;
  size_t zlib_len = 2 + raw_len + blocks * 5 + 4;
  bytes png = {malloc(8 + 25 + 12 + zlib_len + 12), 0};
  uint8_t *zlib = malloc(zlib_len);
  if (png.data == NULL || zlib == NULL) {
    free(png.data);
    free(zlib);
    png.data = NULL;
    return png;
  }
  memcpy(png.data, PNG_SIGNATURE, 8);
  png.len = 8;
  uint8_t ihdr[13];
  put32(ihdr, width);
  put32(ihdr + 4, height);
  ihdr[8] = 8;   /* bit depth */
  ihdr[9] = 0;   /* greyscale */
  ihdr[10] = 0;  /* deflate */
  ihdr[11] = 0;  /* adaptive filtering */
  ihdr[12] = 0;  /* no interlace */
  chunk(&png, "IHDR", ihdr, sizeof ihdr);

  /* zlib: header, stored blocks of the filtered rows, Adler-32 of the raw data. */
  size_t z = 0, done = 0;
  uint32_t a = 1, b = 0;
  zlib[z++] = 0x78;
  zlib[z++] = 0x01;
  while (done < raw_len) {
    size_t n = raw_len - done < 65535 ? raw_len - done : 65535;
    zlib[z++] = done + n == raw_len ? 1 : 0; /* BFINAL, BTYPE 00 */
    zlib[z++] = (uint8_t)n;
    zlib[z++] = (uint8_t)(n >> 8);
    zlib[z++] = (uint8_t)~n;
    zlib[z++] = (uint8_t)(~n >> 8);
    for (size_t i = 0; i < n; i++) {
      size_t at = done + i, y = at / row, x = at % row;
      uint8_t value = x == 0 ? 0 : (uint8_t)((x - 1 + y) & 0xFF);
      zlib[z++] = value;
      a = (a + value) % 65521;
      b = (b + a) % 65521;
    }
    done += n;
  }
  put32(zlib + z, (b << 16) | a);
  z += 4;
  chunk(&png, "IDAT", zlib, z);
  chunk(&png, "IEND", NULL, 0);
  free(zlib);
  return png;
}

/* "data:image/png;base64,..." for `data`, NUL-terminated. The caller frees it. */
static char *data_url(const uint8_t *data, size_t len) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const char *prefix = "data:image/png;base64,";
  size_t prefix_len = strlen(prefix);
  char *url = malloc(prefix_len + (len + 2) / 3 * 4 + 1);
  if (url == NULL) return NULL;
  memcpy(url, prefix, prefix_len);
  char *out = url + prefix_len;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t group = (uint32_t)data[i] << 16;
    if (i + 1 < len) group |= (uint32_t)data[i + 1] << 8;
    if (i + 2 < len) group |= data[i + 2];
    *out++ = alphabet[(group >> 18) & 63];
    *out++ = alphabet[(group >> 12) & 63];
    *out++ = i + 1 < len ? alphabet[(group >> 6) & 63] : '=';
    *out++ = i + 2 < len ? alphabet[group & 63] : '=';
  }
  *out = '\0';
  return url;
}

/* ---- the checks ---- */

static seedream_response *generate(seedream_client *client, const char *request) {
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK_RESULT(seedream_client_generate(client, request, NULL, &response, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  return response;
}

/* 5.0 pro with output_format png: the bytes are a PNG, named so, and saved under that extension. */
static void pro_png(seedream_client *client) {
  seedream_response *response = generate(
      client, "{" PRO ",\"prompt\":\"a red kite\",\"size\":\"1K\",\"output_format\":\"png\","
              "\"response_format\":\"b64_json\"}");
  if (response == NULL) return;
  CHECK(seedream_response_image_count(response) == 1);
  CHECK(seedream_response_image_format(response, 0) == SEEDREAM_IMAGE_FORMAT_PNG);
  CHECK_STR(seedream_response_image_mime_type(response, 0), "image/png");
  CHECK_STR(seedream_response_image_extension(response, 0), "png");
  const uint8_t *data = NULL;
  size_t len = 0;
  CHECK_RESULT(seedream_response_image_bytes(response, 0, &data, &len), SEEDREAM_RESULT_OK, NULL);
  CHECK(is_png(data, len));
  CHECK(seedream_response_image_width(response, 0) == 1024 && seedream_response_image_height(response, 0) == 1024);

  /* Save as the documented path does: the file name takes the library's extension. */
  char path[256];
  snprintf(path, sizeof path, "/tmp/seedream-formats-%ld.%s", (long)getpid(),
           seedream_response_image_extension(response, 0));
  CHECK(strcmp(path + strlen(path) - 4, ".png") == 0);
  FILE *file = fopen(path, "wb");
  CHECK(file != NULL);
  if (file != NULL && data != NULL) {
    CHECK(fwrite(data, 1, len, file) == len);
    fclose(file);
    uint8_t head[8] = {0};
    file = fopen(path, "rb");
    CHECK(file != NULL);
    if (file != NULL) {
      CHECK(fread(head, 1, 8, file) == 8);
      fclose(file);
    }
    CHECK(memcmp(head, PNG_SIGNATURE, 8) == 0);
    remove(path);
  }

  /* Not a layered response: no layer fields; outputs untouched. */
  int64_t z = 77;
  seedream_bounding_box box = {0};
  box.absolute[0] = 5.0;
  CHECK(seedream_response_image_z_index(response, 0, &z) == SEEDREAM_RESULT_NOT_AVAILABLE && z == 77);
  CHECK(seedream_response_image_bounding_box(response, 0, &box) == SEEDREAM_RESULT_NOT_AVAILABLE);
  CHECK(box.absolute[0] == 5.0 && !box.has_absolute);
  CHECK_STR(seedream_response_image_name(response, 0), "");
  CHECK_STR(seedream_response_image_description(response, 0), "");

  /* 5.0 pro reports input_images (0 without references); no web search. */
  uint64_t count = 99;
  CHECK_RESULT(seedream_response_usage_input_images(response, &count), SEEDREAM_RESULT_OK, NULL);
  CHECK(count == 0);
  count = 99;
  CHECK(seedream_response_usage_web_searches(response, &count) == SEEDREAM_RESULT_NOT_AVAILABLE && count == 99);

  /* Out of range and NULL: the documented sentinels. */
  CHECK(seedream_response_image_format(response, 1) == SEEDREAM_IMAGE_FORMAT_UNKNOWN);
  CHECK(seedream_response_image_mime_type(response, 1) == NULL);
  CHECK(seedream_response_image_extension(response, 1) == NULL);
  CHECK(seedream_response_image_name(response, 1) == NULL);
  CHECK(seedream_response_image_description(response, 1) == NULL);
  CHECK(seedream_response_image_z_index(response, 1, &z) == SEEDREAM_RESULT_INVALID_ARGUMENT);
  CHECK(seedream_response_image_bounding_box(response, 1, &box) == SEEDREAM_RESULT_INVALID_ARGUMENT);
  CHECK(seedream_response_image_z_index(response, 0, NULL) == SEEDREAM_RESULT_NULL_PARAMETER);
  CHECK(seedream_response_image_bounding_box(response, 0, NULL) == SEEDREAM_RESULT_NULL_PARAMETER);
  CHECK(seedream_response_usage_input_images(response, NULL) == SEEDREAM_RESULT_NULL_PARAMETER);
  seedream_response_free(response);

  CHECK(seedream_response_image_format(NULL, 0) == SEEDREAM_IMAGE_FORMAT_UNKNOWN);
  CHECK(seedream_response_image_mime_type(NULL, 0) == NULL);
  CHECK(seedream_response_image_name(NULL, 0) == NULL);
  CHECK(seedream_response_image_z_index(NULL, 0, &z) == SEEDREAM_RESULT_NULL_PARAMETER);
  CHECK(seedream_response_usage_web_searches(NULL, &count) == SEEDREAM_RESULT_NULL_PARAMETER);
  CHECK_STR(seedream_image_format_mime_type(SEEDREAM_IMAGE_FORMAT_PNG), "image/png");
  CHECK_STR(seedream_image_format_extension(SEEDREAM_IMAGE_FORMAT_JPEG), "jpg");
  CHECK_STR(seedream_image_format_mime_type(12345), "");
  CHECK_STR(seedream_image_format_extension(-1), "");
}

/* The default stays JPEG, from a downloaded URL as from b64_json. */
static void default_jpeg(seedream_client *client) {
  seedream_response *response =
      generate(client, "{\"model\":\"doubao-seedream-4-0-250828\",\"prompt\":\"a lighthouse\",\"size\":\"1K\"}");
  if (response == NULL) return;
  CHECK(seedream_response_image_format(response, 0) == SEEDREAM_IMAGE_FORMAT_JPEG);
  CHECK_STR(seedream_response_image_mime_type(response, 0), "image/jpeg");
  CHECK_STR(seedream_response_image_extension(response, 0), "jpg");
  uint64_t count = 0;
  CHECK(seedream_response_usage_input_images(response, &count) == SEEDREAM_RESULT_NOT_AVAILABLE);
  seedream_response_free(response);
}

typedef struct {
  int images;
  int png;
} stream_seen;

static int on_event(void *userdata, const seedream_stream_event *event) {
  stream_seen *seen = userdata;
  if (seedream_stream_event_type(event) == SEEDREAM_EVENT_TYPE_PARTIAL_SUCCEEDED) {
    const uint8_t *data = NULL;
    size_t len = 0;
    seen->images++;
    if (seedream_stream_event_bytes(event, &data, &len) == SEEDREAM_RESULT_OK && is_png(data, len) &&
        seedream_stream_event_image_format(event) == SEEDREAM_IMAGE_FORMAT_PNG &&
        strcmp(seedream_stream_event_image_mime_type(event), "image/png") == 0 &&
        strcmp(seedream_stream_event_image_extension(event), "png") == 0) {
      seen->png++;
    }
  } else {
    CHECK(seedream_stream_event_image_format(event) == SEEDREAM_IMAGE_FORMAT_UNKNOWN);
    CHECK_STR(seedream_stream_event_image_mime_type(event), "");
  }
  return SEEDREAM_STREAM_CONTINUE;
}

/* 5.0 lite streams PNGs and states no format: the bytes tell. */
static void lite_png_stream(seedream_client *client) {
  stream_seen seen = {0, 0};
  seedream_error *error = NULL;
  const char *request = "{" LITE ",\"prompt\":\"two kites\",\"size\":\"2K\",\"output_format\":\"png\","
                        "\"response_format\":\"b64_json\",\"sequential_image_generation\":\"auto\","
                        "\"sequential_image_generation_options\":{\"max_images\":2}}";
  CHECK_RESULT(seedream_client_generate_stream(client, request, on_event, &seen, NULL, &error), SEEDREAM_RESULT_OK,
               error);
  seedream_error_free(error);
  CHECK(seen.images == 2 && seen.png == 2);
  CHECK(seedream_stream_event_image_format(NULL) == SEEDREAM_IMAGE_FORMAT_UNKNOWN);
  CHECK(seedream_stream_event_image_mime_type(NULL) == NULL);
}

/* Layer decomposition of one 640x512 PNG: the base image, then layers 1, 2, ... each with its box
 * inside the base image, a name and a description. */
static void layers(seedream_client *client) {
  bytes png = make_png(640, 512);
  CHECK(png.data != NULL);
  if (png.data == NULL) return;
  char *url = data_url(png.data, png.len);
  free(png.data);
  CHECK(url != NULL);
  if (url == NULL) return;
  const char *head = "{" PRO ",\"prompt\":\"\",\"layer_decomposition\":true,\"output_format\":\"png\","
                     "\"response_format\":\"b64_json\",\"image\":\"";
  size_t request_len = strlen(head) + strlen(url) + 3;
  char *request = malloc(request_len);
  CHECK(request != NULL);
  if (request == NULL) {
    free(url);
    return;
  }
  snprintf(request, request_len, "%s%s\"}", head, url);
  free(url);

  seedream_validation *validation = NULL;
  CHECK_RESULT(seedream_request_validate(request, &validation, NULL), SEEDREAM_RESULT_OK, NULL);
  CHECK(seedream_validation_is_valid(validation));
  seedream_validation_free(validation);

  seedream_response *response = generate(client, request);
  free(request);
  if (response == NULL) return;
  size_t count = seedream_response_image_count(response);
  CHECK(count >= 3); /* the base image and at least two layers */
  uint32_t width = seedream_response_image_width(response, 0), height = seedream_response_image_height(response, 0);
  CHECK(width > 0 && height > 0);
  for (size_t i = 0; i < count; i++) {
    CHECK(seedream_response_image_succeeded(response, i));
    CHECK(seedream_response_image_format(response, i) == SEEDREAM_IMAGE_FORMAT_PNG);
    CHECK_STR(seedream_response_image_mime_type(response, i), "image/png");
    const uint8_t *data = NULL;
    size_t len = 0;
    CHECK_RESULT(seedream_response_image_bytes(response, i, &data, &len), SEEDREAM_RESULT_OK, NULL);
    CHECK(is_png(data, len));
    int64_t z = -1;
    CHECK_RESULT(seedream_response_image_z_index(response, i, &z), SEEDREAM_RESULT_OK, NULL);
    CHECK(z == (int64_t)i);
    seedream_bounding_box box = {0};
    if (i == 0) {
      CHECK(seedream_response_image_bounding_box(response, i, &box) == SEEDREAM_RESULT_NOT_AVAILABLE);
      continue;
    }
    CHECK_RESULT(seedream_response_image_bounding_box(response, i, &box), SEEDREAM_RESULT_OK, NULL);
    CHECK(box.has_absolute && box.has_normalized);
    CHECK(box.absolute[0] >= 0 && box.absolute[0] < box.absolute[2] && box.absolute[2] <= width);
    CHECK(box.absolute[1] >= 0 && box.absolute[1] < box.absolute[3] && box.absolute[3] <= height);
    for (int k = 0; k < 4; k++) {
      double side = k % 2 == 0 ? width : height;
      double expected = box.absolute[k] * 1000.0 / side;
      CHECK(box.normalized[k] >= expected - 1.0 && box.normalized[k] <= expected + 1.0);
    }
    CHECK(strlen(seedream_response_image_name(response, i)) > 0);
    CHECK(strlen(seedream_response_image_description(response, i)) > 0);
  }
  seedream_usage usage = {0, 0, 0};
  CHECK_RESULT(seedream_response_usage(response, &usage), SEEDREAM_RESULT_OK, NULL);
  uint64_t input_images = 0;
  CHECK_RESULT(seedream_response_usage_input_images(response, &input_images), SEEDREAM_RESULT_OK, NULL);
  CHECK(input_images == 1);
  seedream_response_free(response);
}

/* A request the local rules refuse (4.5 has no 1K preset): refused before sending by default,
 * sent and refused by the service once validation is off. */
static void validation_switch(const char *base_url) {
  const char *request = "{\"model\":\"doubao-seedream-4-5-251128\",\"prompt\":\"p\",\"size\":\"1K\"}";
  seedream_client *client = test_client(base_url, NULL, 1);
  seedream_response *response = NULL;
  seedream_error *error = NULL;
  CHECK(seedream_client_generate(client, request, NULL, &response, &error) == SEEDREAM_RESULT_INVALID_REQUEST);
  CHECK(error != NULL && seedream_error_http_status(error) == 0);
  seedream_error_free(error);
  error = NULL;
  seedream_client_free(client);

  seedream_client_builder *builder = seedream_client_builder_new();
  CHECK(seedream_client_builder_set_validate_requests(NULL, false) == SEEDREAM_RESULT_NULL_PARAMETER);
  CHECK_RESULT(seedream_client_builder_set_validate_requests(builder, false), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_set_base_url(builder, base_url), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_set_api_key(builder, env("SEEDREAM_TEST_API_KEY")), SEEDREAM_RESULT_OK, NULL);
  CHECK_RESULT(seedream_client_builder_set_max_attempts(builder, 1), SEEDREAM_RESULT_OK, NULL);
  client = NULL;
  CHECK_RESULT(seedream_client_builder_build(builder, &client, &error), SEEDREAM_RESULT_OK, error);
  seedream_error_free(error);
  error = NULL;
  seedream_client_builder_free(builder);
  CHECK(seedream_client_generate(client, request, NULL, &response, &error) == SEEDREAM_RESULT_API);
  CHECK(error != NULL && seedream_error_http_status(error) == 400);
  CHECK(response == NULL);
  seedream_error_free(error);
  seedream_client_free(client);
}

int main(void) {
  const char *base_url = env("SEEDREAM_TEST_ARK_URL");
  seedream_client *client = test_client(base_url, NULL, 1);
  if (client == NULL) return check_report("formats");
  pro_png(client);
  default_jpeg(client);
  lite_png_stream(client);
  layers(client);
  seedream_client_free(client);
  validation_switch(base_url);
  return check_report("formats");
}
