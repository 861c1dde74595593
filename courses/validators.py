"""Upload checks: extension, size and the file's own signature (never the client's content type)."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

VIDEO_EXTENSIONS = {".mp4", ".webm", ".ogv"}
AUDIO_EXTENSIONS = {".mp3", ".ogg", ".oga", ".wav", ".m4a", ".webm"}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
CAPTION_MAX_BYTES = 1024 * 1024


def _extension(upload: File) -> str:
    return Path(upload.name or "").suffix.lower()


def _head(upload: File, size: int = 64) -> bytes:
    upload.seek(0)
    head = upload.read(size)
    upload.seek(0)
    return head if isinstance(head, bytes) else head.encode()


def _check_size(upload: File, limit: int) -> None:
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("The file is %(size)d bytes; the limit is %(limit)d bytes."),
            code="file_too_large",
            params={"size": upload.size, "limit": limit},
        )


def _check_extension(upload: File, allowed: set[str], what: str) -> None:
    if _extension(upload) not in allowed:
        raise ValidationError(
            _("A %(what)s file must end in one of %(allowed)s."),
            code="bad_extension",
            params={"what": what, "allowed": ", ".join(sorted(allowed))},
        )


def _is_video(head: bytes) -> bool:
    return (
        head[4:8] == b"ftyp"  # MP4
        or head[:4] == b"\x1a\x45\xdf\xa3"  # WebM / Matroska
        or head[:4] == b"OggS"
    )


def _is_audio(head: bytes) -> bool:
    return (
        _is_video(head)  # M4A, WebM and Ogg carry audio in the same containers
        or head[:3] == b"ID3"  # MP3 with tags
        or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)  # MP3 frame sync
        or (head[:4] == b"RIFF" and head[8:12] == b"WAVE")
    )


def validate_video(upload: File) -> None:
    """A video upload is an MP4, WebM or Ogg file within PATHWISE_MAX_UPLOAD_BYTES."""
    _check_size(upload, settings.PATHWISE_MAX_UPLOAD_BYTES)
    _check_extension(upload, VIDEO_EXTENSIONS, "video")
    # Only video containers: an MP3 or WAV renamed .mp4 would pass a check for "any media".
    if not _is_video(_head(upload)):
        raise ValidationError(_("The file is not a video."), code="bad_content")


def validate_audio(upload: File) -> None:
    """An audio upload is an MP3, Ogg, WAV, M4A or WebM file within PATHWISE_MAX_UPLOAD_BYTES."""
    _check_size(upload, settings.PATHWISE_MAX_UPLOAD_BYTES)
    _check_extension(upload, AUDIO_EXTENSIONS, "audio")
    if not _is_audio(_head(upload)):
        raise ValidationError(_("The file is not audio."), code="bad_content")


def validate_image(upload: File) -> None:
    """An image upload is a PNG, JPEG, GIF or WebP that Pillow can verify."""
    _check_size(upload, settings.PATHWISE_MAX_IMAGE_BYTES)
    _check_extension(upload, IMAGE_EXTENSIONS, "image")
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            pixels = image.width * image.height
            image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # A few bytes of PNG header can claim billions of pixels; Pillow refuses to open those.
        raise ValidationError(
            _("The image has too many pixels."), code="too_many_pixels"
        ) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(_("The file is not a valid image."), code="bad_content") from error
    finally:
        upload.seek(0)
    # Between its two limits Pillow only warns; anything that big is refused as well.
    if Image.MAX_IMAGE_PIXELS and pixels > Image.MAX_IMAGE_PIXELS:
        raise ValidationError(_("The image has too many pixels."), code="too_many_pixels")
    if image_format not in IMAGE_FORMATS:
        raise ValidationError(_("The image format is not allowed."), code="bad_content")


def validate_captions(upload: File) -> None:
    """Captions are a UTF-8 WebVTT file (it starts with WEBVTT)."""
    _check_size(upload, CAPTION_MAX_BYTES)
    _check_extension(upload, {".vtt"}, "captions")
    head = _head(upload, 16).removeprefix(b"\xef\xbb\xbf")
    # The WebVTT signature is "WEBVTT" alone or followed by a space, tab or line break.
    if not head.startswith(b"WEBVTT") or head[6:7] not in (b"", b" ", b"\t", b"\r", b"\n"):
        raise ValidationError(
            _("Captions must be a WebVTT file starting with WEBVTT."), code="bad_content"
        )
