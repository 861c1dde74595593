"""Upload checks: extension, size and the file's own signature."""

import io
import struct
import wave
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from courses.validators import validate_audio, validate_captions, validate_image, validate_video

MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
WEBM_HEAD = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01"


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def _image(name: str, image_format: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), color=(0, 128, 255)).save(buffer, format=image_format)
    return _upload(name, buffer.getvalue())


def _wav(name: str = "clip.wav") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(1)
        clip.setframerate(8000)
        clip.writeframes(b"\x80" * 80)
    return _upload(name, buffer.getvalue())


def _codes(error: pytest.ExceptionInfo[ValidationError]) -> list[str | None]:
    return [item.code for item in error.value.error_list]


@pytest.mark.parametrize(
    ("name", "image_format"),
    [("a.png", "PNG"), ("a.jpg", "JPEG"), ("a.jpeg", "JPEG"), ("a.gif", "GIF"), ("a.webp", "WEBP")],
)
def test_real_images_pass(name, image_format):
    upload = _image(name, image_format)

    validate_image(upload)

    assert upload.tell() == 0


def test_image_that_is_not_an_image_fails():
    with pytest.raises(ValidationError) as error:
        validate_image(_upload("a.png", b"\x89PNG but then nothing useful"))

    assert _codes(error) == ["bad_content"]


def test_image_in_a_format_that_is_not_allowed_fails():
    with pytest.raises(ValidationError) as error:
        validate_image(_image("a.png", "BMP"))

    assert error.value.messages == ["The image format is not allowed."]


def test_image_with_the_wrong_extension_fails():
    with pytest.raises(ValidationError) as error:
        validate_image(_image("a.svg", "PNG"))

    assert _codes(error) == ["bad_extension"]


def test_image_over_the_limit_fails(settings):
    settings.PATHWISE_MAX_IMAGE_BYTES = 10

    with pytest.raises(ValidationError) as error:
        validate_image(_image("a.png", "PNG"))

    assert _codes(error) == ["file_too_large"]


@pytest.mark.parametrize(
    ("name", "head"), [("v.mp4", MP4_HEAD), ("v.webm", WEBM_HEAD), ("v.ogv", b"OggS\x00\x02")]
)
def test_video_containers_pass(name, head):
    validate_video(_upload(name, head + b"\x00" * 32))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"plain text pretending to be a video", id="text"),
        pytest.param(b"ID3\x03\x00" + b"\x00" * 40, id="mp3"),
        pytest.param(b"\xff\xfb\x90\x00" + b"\x00" * 40, id="mp3-frame"),
        pytest.param(b"", id="empty"),
    ],
)
def test_fake_mp4_fails(content):
    with pytest.raises(ValidationError) as error:
        validate_video(_upload("v.mp4", content))

    assert error.value.messages == ["The file is not a video."]


def test_wav_named_as_video_fails():
    with pytest.raises(ValidationError):
        validate_video(_wav("v.mp4"))


def test_video_with_an_audio_extension_fails():
    with pytest.raises(ValidationError) as error:
        validate_video(_upload("v.mp3", MP4_HEAD))

    assert _codes(error) == ["bad_extension"]


def test_video_over_the_limit_fails(settings):
    settings.PATHWISE_MAX_UPLOAD_BYTES = 16

    with pytest.raises(ValidationError) as error:
        validate_video(_upload("v.mp4", MP4_HEAD + b"\x00" * 32))

    assert _codes(error) == ["file_too_large"]


def test_tiny_wav_passes_as_audio():
    validate_audio(_wav())


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("a.mp3", b"ID3\x04\x00"),
        ("a.mp3", b"\xff\xfb\x90\x00"),
        ("a.ogg", b"OggS\x00\x02"),
        ("a.m4a", b"\x00\x00\x00\x20ftypM4A "),
        ("a.webm", WEBM_HEAD),
    ],
)
def test_audio_containers_pass(name, head):
    validate_audio(_upload(name, head + b"\x00" * 32))


def test_audio_that_is_not_audio_fails():
    with pytest.raises(ValidationError) as error:
        validate_audio(_upload("a.wav", b"RIFF\x00\x00\x00\x00AVI LIST"))

    assert error.value.messages == ["The file is not audio."]


@pytest.mark.parametrize(
    "content",
    [
        b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi\n",
        b"WEBVTT",
        b"WEBVTT - Lecture 1\n",
        b"\xef\xbb\xbfWEBVTT\r\n",
    ],
)
def test_webvtt_captions_pass(content):
    validate_captions(_upload("c.vtt", content))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"1\n00:00:00,000 --> 00:00:01,000\nHi\n", id="srt"),
        pytest.param(b"WEBVTTX\n", id="longer-word"),
        pytest.param(b"webvtt\n", id="lower-case"),
        pytest.param(b"", id="empty"),
    ],
)
def test_captions_that_do_not_start_with_webvtt_fail(content):
    with pytest.raises(ValidationError) as error:
        validate_captions(_upload("c.vtt", content))

    assert error.value.messages == ["Captions must be a WebVTT file starting with WEBVTT."]


def test_captions_need_the_vtt_extension():
    with pytest.raises(ValidationError) as error:
        validate_captions(_upload("c.srt", b"WEBVTT\n"))

    assert _codes(error) == ["bad_extension"]


def _png_claiming(width: int, height: int) -> SimpleUploadedFile:
    """A PNG whose header claims width x height pixels, with almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    content = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )
    return _upload("bomb.png", content)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        pytest.param(30_000, 30_000, id="over-pillow-error-limit"),
        pytest.param(10_000, 10_000, id="between-pillow-limits"),
    ],
)
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_image_claiming_too_many_pixels_fails(width, height):
    with pytest.raises(ValidationError) as error:
        validate_image(_png_claiming(width, height))

    assert error.value.messages == ["The image has too many pixels."]
