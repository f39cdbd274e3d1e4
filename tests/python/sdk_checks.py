"""The official Ark Python SDK and the OpenAI Python SDK against the emulator.

Software nobody here wrote keeps the emulator honest: if these clients, built against the live
service, cannot read what the emulator answers, the emulator has drifted from the service.

Run by `cargo xtask python-sdks` (which starts the emulator, makes a venv under target/ and installs
requirements.txt), or by hand against `seedream emulator --port N`:

    SEEDREAM_EMULATOR_URL=http://127.0.0.1:N ARK_API_KEY=k python tests/python/sdk_checks.py [-k NAME]

Plain Python with asserts: each check is a function named `check_*`; every check runs, each prints
PASS or FAIL with its time, and the exit status is 1 if any failed.
"""

import base64
import os
import struct
import sys
import time
import traceback
import uuid
import zlib

import openai
from volcenginesdkarkruntime import Ark
from volcenginesdkarkruntime._exceptions import (
    ArkAuthenticationError,
    ArkBadRequestError,
    ArkRateLimitError,
)
from volcenginesdkarkruntime.types.images.images import (
    ContentGenerationTool,
    SequentialImageGenerationOptions,
)

ROOT = os.environ.get("SEEDREAM_EMULATOR_URL", "http://127.0.0.1:8080").rstrip("/")
KEY = os.environ.get("ARK_API_KEY", "python-sdk-key")
ARK_BASE = ROOT + "/api/v3"
RELAY_BASE = ROOT + "/v1"
FAULT_HEADER = "x-emulator-fault"
# Per call: the emulator answers small images in well under a second, even as a debug build.
TIMEOUT = float(os.environ.get("SEEDREAM_SDK_TIMEOUT", "60"))

SEEDREAM_4_0 = "doubao-seedream-4-0-250828"
SEEDREAM_4_5 = "doubao-seedream-4-5-251128"
LITE = "doubao-seedream-5-0-260128"
LITE_ALIAS = "doubao-seedream-5-0-lite-260128"
PRO = "doubao-seedream-5-0-pro-260628"
FLASH = "doubao-seedream-5-0-flash-260915"

# The smallest size each family takes (small images keep the run short).
SMALL = {
    SEEDREAM_4_0: ("1K", (1024, 1024)),
    SEEDREAM_4_5: ("1920x1920", (1920, 1920)),
    LITE: ("1920x1920", (1920, 1920)),
    LITE_ALIAS: ("1920x1920", (1920, 1920)),
    PRO: ("1K", (1024, 1024)),
    FLASH: ("1K", (1024, 1024)),
}

JPEG_SOI = b"\xff\xd8\xff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def ark(max_retries=0, api_key=KEY):
    return Ark(base_url=ARK_BASE, api_key=api_key, max_retries=max_retries, timeout=TIMEOUT)


def relay(max_retries=0, api_key=KEY):
    return openai.OpenAI(base_url=RELAY_BASE, api_key=api_key, max_retries=max_retries, timeout=TIMEOUT)


def png(width, height, alpha=False):
    """A real, decodable PNG: a gradient, half transparent on the right when `alpha`."""
    channels = 4 if alpha else 3
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            pixel = [x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), 128]
            if alpha:
                pixel.append(255 if x < width // 2 else 0)
            rows.extend(pixel)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    colour_type = 6 if alpha else 2
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    assert channels in (3, 4)
    return PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 6)) + chunk(b"IEND", b"")


def data_url(png_bytes):
    return "data:image/png;base64," + base64.b64encode(png_bytes).decode()


def png_info(data):
    """(width, height, colour type) from a PNG's IHDR."""
    assert data.startswith(PNG_SIGNATURE), f"not a PNG: {data[:8]!r}"
    assert data[12:16] == b"IHDR", "no IHDR first"
    width, height, _depth, colour_type = struct.unpack(">IIBB", data[16:26])
    return width, height, colour_type


def png_has_alpha(data):
    _, _, colour_type = png_info(data)
    return colour_type in (4, 6) or b"tRNS" in data[: data.find(b"IDAT")]


def jpeg_size(data):
    """(width, height) from a JPEG's first SOFn marker."""
    assert data.startswith(JPEG_SOI), f"not a JPEG: {data[:4]!r}"
    assert data.endswith(b"\xff\xd9"), "the JPEG is cut"
    at = 2
    while at < len(data):
        assert data[at] == 0xFF, f"no marker at {at}"
        marker = data[at + 1]
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + length
    raise AssertionError("no SOF marker")


def image_bytes(item):
    """The bytes of one response item (base64 or link)."""
    if getattr(item, "b64_json", None):
        return base64.b64decode(item.b64_json)
    import httpx  # the SDKs' own HTTP library

    response = httpx.get(item.url, timeout=TIMEOUT)
    assert response.status_code == 200, f"{item.url}: {response.status_code}"
    return response.content


def verify_image(item, dims, fmt="jpeg"):
    data = image_bytes(item)
    if fmt == "jpeg":
        assert jpeg_size(data) == dims, f"JPEG of {jpeg_size(data)}, expected {dims}"
    else:
        width, height, _ = png_info(data)
        assert (width, height) == dims, f"PNG of {(width, height)}, expected {dims}"
    if getattr(item, "size", None):
        assert item.size == f"{dims[0]}x{dims[1]}", f"size {item.size}, expected {dims}"
    return data


def extra(model_obj, name):
    """A field the SDK's model may or may not declare."""
    value = getattr(model_obj, name, None)
    if value is None:
        value = (model_obj.model_extra or {}).get(name)
    return value


# ---------------------------------------------------------------------------------------------
# Generation, every current family and lite, through both SDKs.


def generate_ark(model, **kwargs):
    size, dims = SMALL[model]
    response = ark().images.generate(model=model, prompt="a lighthouse at dawn", size=size, **kwargs)
    assert len(response.data) == 1, response
    return response, dims


def check_ark_generate_every_family():
    for model in (SEEDREAM_4_0, SEEDREAM_4_5, PRO, FLASH, LITE):
        for response_format in ("url", "b64_json"):
            response, dims = generate_ark(model, response_format=response_format)
            verify_image(response.data[0], dims)
            assert response.usage.generated_images == 1, (model, response.usage)
            assert response.usage.output_tokens == dims[0] * dims[1] // 256, (model, response.usage)
            if model in (PRO, FLASH):
                assert response.data[0].output_format == "jpeg", (model, response.data[0])
                assert response.usage.input_images == 0, (model, response.usage)


def check_openai_generate_every_family_on_the_relay_base():
    client = relay()
    for model in (SEEDREAM_4_0, SEEDREAM_4_5, PRO, FLASH, LITE):
        size, dims = SMALL[model]
        response = client.images.generate(model=model, prompt="a lighthouse", size=size, response_format="b64_json")
        assert len(response.data) == 1, (model, response)
        verify_image(response.data[0], dims)
        assert response.created > 0


def check_lite_alias_answers_with_the_dated_id():
    response, dims = generate_ark(LITE_ALIAS, response_format="b64_json")
    verify_image(response.data[0], dims)
    # The service may answer with another spelling of the id; never the alias with `-lite-`.
    assert response.model and "-lite-" not in response.model, response.model


def check_ark_group_on_4x_and_lite():
    for model in (SEEDREAM_4_0, SEEDREAM_4_5, LITE):
        size, dims = SMALL[model]
        response = ark().images.generate(
            model=model,
            prompt="four seasons of one tree",
            size=size,
            response_format="b64_json",
            sequential_image_generation="auto",
            sequential_image_generation_options=SequentialImageGenerationOptions(max_images=2),
        )
        assert len(response.data) == 2, (model, len(response.data))
        for item in response.data:
            verify_image(item, dims)
        assert response.usage.generated_images == 2


# ---------------------------------------------------------------------------------------------
# Streaming (4.x and lite).


def check_ark_stream_on_4x_and_lite():
    for model in (SEEDREAM_4_0, SEEDREAM_4_5, LITE):
        size, dims = SMALL[model]
        stream = ark().images.generate(
            model=model,
            prompt="four seasons of one tree",
            size=size,
            response_format="b64_json",
            sequential_image_generation="auto",
            sequential_image_generation_options=SequentialImageGenerationOptions(max_images=2),
            stream=True,
        )
        kinds, indices, completed = [], [], None
        for event in stream:
            kinds.append(event.type)
            if event.type == "image_generation.partial_succeeded":
                indices.append(event.image_index)
                verify_image(event, dims)
            elif event.type == "image_generation.completed":
                completed = event
        assert kinds == ["image_generation.partial_succeeded"] * 2 + ["image_generation.completed"], (model, kinds)
        assert sorted(indices) == [0, 1], indices
        # This SDK version parses `completed` as its generating-event class, whose `usage` stays a dict.
        usage = completed.usage if isinstance(completed.usage, dict) else completed.usage.model_dump()
        assert usage["generated_images"] == 2, usage
        assert usage["output_tokens"] == 2 * dims[0] * dims[1] // 256, usage


# ---------------------------------------------------------------------------------------------
# Edits: OpenAI's multipart images.edit on the relay base.


def check_openai_edit_multipart_on_the_relay_base():
    client = relay()
    source = png(640, 360)
    for model, size, dims in ((SEEDREAM_4_5, "2K", (2560, 1440)), (SEEDREAM_4_0, "1K", (1280, 720))):
        response = client.images.edit(
            model=model,
            image=("otter.png", source, "image/png"),
            prompt="make it night",
            size=size,
            response_format="b64_json",
        )
        assert len(response.data) == 1, response
        verify_image(response.data[0], dims)


def check_openai_edit_on_pro_and_flash():
    # The emulator's multipart form takes model, prompt, n, size, response_format, watermark, image and
    # mask (seed 000's fields); output_format in the form is not read, so the answer is a JPEG.
    for model in (PRO, FLASH):
        response = relay().images.edit(
            model=model,
            image=("otter.png", png(512, 512), "image/png"),
            prompt="make it night",
            size="1K",
            response_format="b64_json",
        )
        verify_image(response.data[0], (1024, 1024))


# ---------------------------------------------------------------------------------------------
# 5.0 pro and flash: PNG, transparent backgrounds, layers.


def check_ark_png_output_on_pro_and_flash():
    for model in (PRO, FLASH):
        response, dims = generate_ark(model, response_format="b64_json", output_format="png")
        item = response.data[0]
        assert item.output_format == "png", item
        verify_image(item, dims, fmt="png")


def check_openai_transparent_background_on_pro():
    # OpenAI's SDK declares `background` and `output_format`; Ark's does not declare `background`.
    response = relay().images.generate(
        model=PRO,
        prompt="the same cup, no background",
        size="1K",
        response_format="b64_json",
        output_format="png",
        background="transparent",
        extra_body={"image": data_url(png(512, 512, alpha=True))},
    )
    data = verify_image(response.data[0], (1024, 1024), fmt="png")
    assert png_has_alpha(data), "a transparent background came back without alpha"


def check_ark_transparent_background_via_extra_body():
    response = ark().images.generate(
        model=FLASH,
        prompt="the same cup, no background",
        image=data_url(png(512, 512, alpha=True)),
        size="1K",
        response_format="b64_json",
        output_format="png",
        extra_body={"background": "transparent"},
    )
    item = response.data[0]
    assert item.output_format == "png", item
    assert png_has_alpha(verify_image(item, (1024, 1024), fmt="png"))
    assert response.usage.input_images == 1, response.usage


def check_ark_layer_decomposition_on_pro():
    source = png(512, 512, alpha=False)
    response = ark().images.generate(
        model=PRO,
        prompt="",
        image=data_url(source),
        response_format="b64_json",
        output_format="png",
        layer_decomposition=True,
    )
    items = response.data
    assert 2 <= len(items) <= 17, f"{len(items)} items: a base image and 1 to 16 layers"
    assert [item.z_index for item in items] == list(range(len(items))), [item.z_index for item in items]
    base = items[0]
    assert base.bounding_box is None and base.name is None, base
    base_bytes = image_bytes(base)
    base_w, base_h, _ = png_info(base_bytes)
    for item in items[1:]:
        assert item.name and item.description, item
        box = item.bounding_box
        assert box is not None and len(box.absolute) == 4 and len(box.normalized) == 4, box
        x1, y1, x2, y2 = box.absolute
        assert 0 <= x1 < x2 <= base_w and 0 <= y1 < y2 <= base_h, (box.absolute, base_w, base_h)
        assert all(0 <= v <= 1000 for v in box.normalized), box.normalized
        assert item.output_format == "png", item
        png_info(image_bytes(item))
    assert response.usage.input_images == 1, response.usage


def check_ark_web_search_on_lite():
    response = ark().images.generate(
        model=LITE,
        prompt="the tallest building finished this year",
        size="1920x1920",
        response_format="b64_json",
        tools=[ContentGenerationTool(type="web_search")],
    )
    verify_image(response.data[0], (1920, 1920))
    usage = response.usage
    assert usage.tool_usage is not None and usage.tool_usage.web_search is not None, usage
    assert usage.tool_usage.web_search >= 0, usage
    tools = extra(response, "tools")
    assert tools and tools[0]["type"] == "web_search", tools


# ---------------------------------------------------------------------------------------------
# Refusals and faults: the SDKs raise their typed errors.


def check_pro_refuses_stream_group_and_web_search_with_400():
    attempts = {
        "stream": dict(stream=True),
        "sequential_image_generation": dict(
            sequential_image_generation="auto",
            sequential_image_generation_options=SequentialImageGenerationOptions(max_images=2),
        ),
        "tools": dict(tools=[ContentGenerationTool(type="web_search")]),
    }
    for model in (PRO, FLASH):
        for field, kwargs in attempts.items():
            try:
                result = ark().images.generate(model=model, prompt="p", size="1K", **kwargs)
                if field == "stream":
                    list(result)
            except ArkBadRequestError as error:
                assert error.status_code == 400
                assert error.code == "InvalidParameter", (model, field, error.code)
                assert (error.param or "").startswith(field), (model, field, error.param)
            else:
                raise AssertionError(f"{model} took {field}")


def check_pro_refuses_eleven_references_and_takes_ten():
    references = [data_url(png(64, 64))] * 11
    try:
        ark().images.generate(model=PRO, prompt="p", size="1K", image=references)
    except ArkBadRequestError as error:
        assert error.code == "InvalidParameter" and error.param == "image", (error.code, error.param)
        assert "10" in str(error.message), error.message
    else:
        raise AssertionError("pro took 11 references")
    response = ark().images.generate(model=PRO, prompt="p", size="1K", image=references[:10], response_format="url")
    assert response.usage.input_images == 10, response.usage


def check_quota_fault_is_a_rate_limit_error_in_both_sdks():
    headers = {FAULT_HEADER: "quota"}
    try:
        ark().images.generate(model=SEEDREAM_4_0, prompt="p", size="1K", extra_headers=headers)
    except ArkRateLimitError as error:
        assert error.status_code == 429 and error.code == "QuotaExceeded", (error.status_code, error.code)
    else:
        raise AssertionError("no error under the quota fault")
    try:
        relay().images.generate(model=SEEDREAM_4_0, prompt="p", size="1K", extra_headers=headers)
    except openai.RateLimitError as error:
        assert error.status_code == 429 and error.code == "QuotaExceeded", (error.status_code, error.code)
    else:
        raise AssertionError("no error under the quota fault")


def check_one_server_error_is_retried_by_the_sdk():
    # The fault hits the first request of its id only: the SDK's own retry (default 2) gets the image.
    headers = {FAULT_HEADER: f"server-error;times=1;id={uuid.uuid4()}"}
    response = ark(max_retries=2).images.generate(
        model=SEEDREAM_4_0, prompt="p", size="1K", response_format="b64_json", extra_headers=headers
    )
    verify_image(response.data[0], (1024, 1024))
    # Without retries the same fault is the SDK's typed 500.
    headers = {FAULT_HEADER: f"server-error;times=1;id={uuid.uuid4()}"}
    try:
        relay().images.generate(model=SEEDREAM_4_0, prompt="p", size="1K", extra_headers=headers)
    except openai.InternalServerError as error:
        assert error.status_code == 500 and error.code == "InternalServiceError", (error.status_code, error.code)
    else:
        raise AssertionError("no error under the server-error fault")


def check_wrong_key_is_an_authentication_error():
    try:
        ark(api_key="not-the-key").images.generate(model=SEEDREAM_4_0, prompt="p", size="1K")
    except ArkAuthenticationError as error:
        assert error.status_code == 401 and error.code == "AuthenticationError", (error.status_code, error.code)
    else:
        raise AssertionError("a wrong key was accepted")


def check_moderated_image_of_a_group_comes_back_as_an_item_error():
    response = ark().images.generate(
        model=SEEDREAM_4_0,
        prompt="p",
        size="1K",
        response_format="b64_json",
        sequential_image_generation="auto",
        sequential_image_generation_options=SequentialImageGenerationOptions(max_images=2),
        extra_headers={FAULT_HEADER: "moderate;images=1"},
    )
    assert len(response.data) == 2, response
    verify_image(response.data[0], (1024, 1024))
    failed = response.data[1].model_dump()
    assert failed.get("error", {}).get("code") == "OutputImageSensitiveContentDetected", failed
    assert response.usage.generated_images == 1, response.usage


def main(argv):
    only = argv[argv.index("-k") + 1] if "-k" in argv else ""
    checks = [(name, fn) for name, fn in globals().items() if name.startswith("check_") and callable(fn)]
    checks = [(name, fn) for name, fn in checks if only in name]
    failed = []
    started = time.monotonic()
    print(f"ark {ARK_BASE}, relay {RELAY_BASE}; openai {openai.__version__}", flush=True)
    for name, fn in checks:
        began = time.monotonic()
        try:
            fn()
        except Exception:  # noqa: BLE001 - every failure is reported, then the next check runs
            failed.append(name)
            print(f"FAIL {name} ({time.monotonic() - began:.1f} s)\n{traceback.format_exc()}", flush=True)
        else:
            print(f"PASS {name} ({time.monotonic() - began:.1f} s)", flush=True)
    print(f"{len(checks) - len(failed)}/{len(checks)} passed in {time.monotonic() - started:.1f} s", flush=True)
    return 1 if failed or not checks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
