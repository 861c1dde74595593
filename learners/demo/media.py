"""Demo media made on the spot, nothing downloaded: a PNG (Pillow), a WAV (NumPy) and an MP4.

The video is H.264 in MP4 (what every browser plays), encoded by an ffmpeg binary: the system's
`ffmpeg` when there is one, else the one that the `imageio-ffmpeg` wheel ships. Frames are drawn
with Pillow and piped in as raw RGB, so no font or filter of ffmpeg's own is needed.
"""

import io
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SAMPLE_RATE = 22050
VIDEO_SIZE = (640, 360)
VIDEO_FPS = 12
VIDEO_SECONDS = 6


@dataclass(frozen=True)
class MediaFile:
    name: str
    content: bytes
    duration_seconds: int | None = None


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow built without FreeType: a fixed-size bitmap font
        return ImageFont.load_default()


def coordinate_plane_png() -> MediaFile:
    """A coordinate plane with the line y = 2x - 1 and two marked points."""
    size, step = 480, 40
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    centre = size // 2
    for offset in range(0, size + 1, step):
        draw.line([(offset, 0), (offset, size)], fill=(225, 230, 240))
        draw.line([(0, offset), (size, offset)], fill=(225, 230, 240))
    draw.line([(0, centre), (size, centre)], fill=(60, 60, 60), width=2)
    draw.line([(centre, 0), (centre, size)], fill=(60, 60, 60), width=2)

    def to_pixels(x: float, y: float) -> tuple[float, float]:
        return centre + x * step, centre - y * step

    draw.line([to_pixels(-2.5, -6), to_pixels(3.5, 6)], fill=(37, 99, 235), width=4)
    font = _font(18)
    for x, y in [(1, 1), (2, 3)]:
        px, py = to_pixels(x, y)
        draw.ellipse([px - 7, py - 7, px + 7, py + 7], fill=(220, 38, 38))
        draw.text((px + 10, py - 22), f"({x}, {y})", fill=(17, 24, 39), font=font)
    draw.text((12, 12), "y = 2x - 1", fill=(37, 99, 235), font=_font(24))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return MediaFile("coordinate-plane.png", buffer.getvalue())


def fraction_bars_png() -> MediaFile:
    """Two bars showing that 1/2 and 2/4 cover the same length."""
    image = Image.new("RGB", (480, 200), "white")
    draw = ImageDraw.Draw(image)
    font = _font(20)
    for row, parts in enumerate((2, 4)):
        top = 30 + row * 90
        width = 400 // parts
        for part in range(parts):
            left = 60 + part * width
            filled = part < parts // 2
            draw.rectangle(
                [left, top, left + width, top + 50],
                fill=(134, 239, 172) if filled else (243, 244, 246),
                outline=(31, 41, 55),
                width=2,
            )
        draw.text((10, top + 14), f"{parts // 2}/{parts}", fill=(17, 24, 39), font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return MediaFile("fraction-bars.png", buffer.getvalue())


def balance_tone_wav(seconds: float = 4.0) -> MediaFile:
    """A calm four-note phrase (C, E, G, C) with soft attacks: 16-bit mono PCM WAV."""
    notes = [261.63, 329.63, 392.00, 523.25]
    per_note = int(SAMPLE_RATE * seconds / len(notes))
    t = np.arange(per_note) / SAMPLE_RATE
    envelope = np.minimum(1.0, t / 0.03) * np.exp(-2.5 * t)
    signal = np.concatenate(
        [envelope * (np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)) for f in notes]
    )
    pcm = (signal / np.abs(signal).max() * 0.6 * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as stream:
        stream.setnchannels(1)
        stream.setsampwidth(2)
        stream.setframerate(SAMPLE_RATE)
        stream.writeframes(pcm.tobytes())
    return MediaFile("balance-phrase.wav", buffer.getvalue(), duration_seconds=round(seconds))


def ffmpeg_executable() -> str | None:
    """The system ffmpeg, else the binary inside the imageio-ffmpeg wheel, else None."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        return None


def _video_frames() -> list[bytes]:
    """A marker moving from -3 five steps right on a number line, with the sum below."""
    width, height = VIDEO_SIZE
    frames = []
    title, body = _font(30), _font(22)
    total = VIDEO_FPS * VIDEO_SECONDS
    for index in range(total):
        progress = index / (total - 1)
        image = Image.new("RGB", VIDEO_SIZE, (248, 250, 252))
        draw = ImageDraw.Draw(image)
        draw.text((24, 20), "Integers on the number line", fill=(17, 24, 39), font=title)
        axis_y = height // 2 + 30
        draw.line([(40, axis_y), (width - 40, axis_y)], fill=(55, 65, 81), width=3)
        for tick in range(-5, 6):
            x = width // 2 + tick * 52
            draw.line([(x, axis_y - 10), (x, axis_y + 10)], fill=(55, 65, 81), width=2)
            draw.text((x - 8, axis_y + 16), str(tick), fill=(55, 65, 81), font=body)
        # -3 + 5 = 2: the marker starts at -3 and moves five steps right.
        position = -3 + 5 * min(1.0, max(0.0, (progress - 0.15) / 0.7))
        x = width // 2 + position * 52
        draw.ellipse([x - 12, axis_y - 12, x + 12, axis_y + 12], fill=(220, 38, 38))
        draw.text((24, height - 60), f"-3 + 5 = {position:.1f}", fill=(37, 99, 235), font=title)
        frames.append(image.tobytes())
    return frames


def number_line_mp4() -> MediaFile | None:
    """A 6-second H.264 MP4 (yuv420p, faststart); None when no ffmpeg is available."""
    executable = ffmpeg_executable()
    if executable is None:
        return None
    width, height = VIDEO_SIZE
    command = [
        executable,
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{width}x{height}",
        "-r",
        str(VIDEO_FPS),
        "-i",
        "pipe:0",
        "-an",
        "-c:v",
        "libx264",
        "-profile:v",
        "baseline",
        "-pix_fmt",
        "yuv420p",
        "-crf",
        "28",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        "output.mp4",
    ]
    # faststart rewrites the file after encoding, so ffmpeg needs a seekable file, not a pipe.
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "video.mp4"
        command[-1] = str(target)
        completed = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            command, input=b"".join(_video_frames()), capture_output=True, check=False
        )
        if completed.returncode != 0 or not target.is_file():
            raise RuntimeError(
                f"ffmpeg could not encode the demo video: {completed.stderr.decode()[-500:]}"
            )
        content = target.read_bytes()
    return MediaFile("number-line.mp4", content, duration_seconds=VIDEO_SECONDS)


def number_line_vtt() -> MediaFile:
    """WebVTT captions for the number-line video."""
    text = (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:01.500\n"
        "We start at minus three on the number line.\n\n"
        "00:00:01.500 --> 00:00:04.500\n"
        "Adding five moves us five steps to the right.\n\n"
        "00:00:04.500 --> 00:00:06.000\n"
        "We land on two: minus three plus five equals two.\n"
    )
    return MediaFile("number-line.en.vtt", text.encode())
