"""Demo media made on the spot, nothing downloaded: PNGs (Pillow), spoken WAVs and an MP4.

Speech comes from espeak-ng (a Debian package; platform/ensure_media_tools.sh installs it).
Each narration is a tuple of sentences, the single source of the spoken audio, its captions and
its transcript, so what a learner reads is exactly what is said. The video is H.264 + AAC in MP4
(what every browser plays), encoded by an ffmpeg binary: the system's `ffmpeg` when there is
one, else the one that the `imageio-ffmpeg` wheel ships. Frames are drawn with Pillow and piped
in as raw RGB, so no font or filter of ffmpeg's own is needed. Without espeak-ng the video is
made silent (its captions then carry the words) and the audio block is left out.
"""

import io
import math
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SAMPLE_RATE = 22050
VIDEO_SIZE = (640, 360)
VIDEO_FPS = 12
SPEECH_VOICE = "en-us"
SPEECH_WORDS_PER_MINUTE = 150
# Without a speech engine, captions are timed at this reading pace instead.
SILENT_WORDS_PER_SECOND = 2.5
NARRATION_LEAD_SECONDS = 0.4
NARRATION_GAP_SECONDS = 0.35
NARRATION_TAIL_SECONDS = 0.8

# The number-line video: each sentence is one caption and one phase of the animation.
NUMBER_LINE_NARRATION = (
    "We start at minus three on the number line.",
    "Adding five moves us five steps to the right.",
    "Minus two, minus one, zero, one, two.",
    "We land on two: minus three plus five equals two.",
)
# The audio block of "Letters that stand for numbers": x^2 + 2x at x = -3 is 9 - 6 = 3.
EVALUATION_NARRATION = (
    "Let us evaluate x squared plus two x when x equals minus three.",
    "First substitute minus three for x, in brackets.",
    "Minus three, squared, is nine.",
    "Two times minus three is minus six.",
    "Nine plus minus six is three. So the expression equals three.",
)


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


def _axes(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], x_label: str, y_label: str
) -> None:
    left, top, right, bottom = box
    ink = (55, 65, 81)
    draw.line([(left, top), (left, bottom), (right, bottom)], fill=ink, width=2)
    font = _font(16)
    draw.text(
        ((left + right) / 2 - draw.textlength(x_label, font=font) / 2, bottom + 30),
        x_label,
        fill=ink,
        font=font,
    )
    draw.text((8, top - 28), y_label, fill=ink, font=font)


def histogram_png(
    values: tuple[float, ...], bins: tuple[float, ...], *, name: str, x_label: str
) -> MediaFile:
    """A histogram of `values` over the given bin edges ([a, b) intervals), counts on the bars."""
    counts = [sum(1 for v in values if low <= v < high) for low, high in pairwise(bins)]
    width, height = 520, 340
    box = (60, 50, width - 30, height - 70)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = box
    top_count = max(counts) + 1
    bar_width = (right - left) / len(counts)
    font = _font(16)
    for count in range(top_count + 1):
        y = bottom - count * (bottom - top) / top_count
        draw.line([(left, y), (right, y)], fill=(229, 231, 235))
        draw.text((left - 22, y - 9), str(count), fill=(55, 65, 81), font=font)
    for index, count in enumerate(counts):
        x0 = left + index * bar_width
        y = bottom - count * (bottom - top) / top_count
        if count:
            draw.rectangle(
                [x0 + 2, y, x0 + bar_width - 2, bottom],
                fill=(96, 165, 250),
                outline=(30, 64, 175),
                width=2,
            )
            draw.text((x0 + bar_width / 2 - 5, y - 22), str(count), fill=(17, 24, 39), font=font)
    for index, edge in enumerate(bins):
        x = left + index * bar_width
        draw.line([(x, bottom), (x, bottom + 6)], fill=(55, 65, 81), width=2)
        label = str(edge)
        draw.text(
            (x - draw.textlength(label, font=font) / 2, bottom + 8),
            label,
            fill=(55, 65, 81),
            font=font,
        )
    _axes(draw, box, x_label, "Students")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return MediaFile(name, buffer.getvalue())


def scatter_png(
    xs: tuple[float, ...],
    ys: tuple[float, ...],
    *,
    name: str,
    x_label: str,
    y_label: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
) -> MediaFile:
    """A scatter plot with its least-squares line."""
    width, height = 520, 360
    box = (60, 50, width - 30, height - 70)
    left, top, right, bottom = box
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = _font(16)

    def to_pixels(x: float, y: float) -> tuple[float, float]:
        fx = (x - x_range[0]) / (x_range[1] - x_range[0])
        fy = (y - y_range[0]) / (y_range[1] - y_range[0])
        return left + fx * (right - left), bottom - fy * (bottom - top)

    for tick in range(int(x_range[0]), int(x_range[1]) + 1):
        px, _ = to_pixels(tick, y_range[0])
        draw.line([(px, bottom), (px, bottom + 6)], fill=(55, 65, 81), width=2)
        draw.text((px - 4, bottom + 8), str(tick), fill=(55, 65, 81), font=font)
    for tick in range(int(y_range[0]), int(y_range[1]) + 1, 10):
        _, py = to_pixels(x_range[0], tick)
        draw.line([(left, py), (right, py)], fill=(229, 231, 235))
        draw.text((left - 28, py - 9), str(tick), fill=(55, 65, 81), font=font)
    slope, intercept = np.polyfit(np.array(xs, dtype=float), np.array(ys, dtype=float), 1)
    draw.line(
        [
            to_pixels(x_range[0], slope * x_range[0] + intercept),
            to_pixels(x_range[1], slope * x_range[1] + intercept),
        ],
        fill=(220, 38, 38),
        width=2,
    )
    for x, y in zip(xs, ys, strict=True):
        px, py = to_pixels(x, y)
        draw.ellipse([px - 6, py - 6, px + 6, py + 6], fill=(37, 99, 235))
    _axes(draw, box, x_label, y_label)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return MediaFile(name, buffer.getvalue())


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


# Speech ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Narration:
    """Sentences placed on a timeline; `pcm` is the spoken track, None when made silently."""

    cues: tuple[Cue, ...]
    seconds: float
    pcm: np.ndarray | None

    @property
    def spoken(self) -> bool:
        return self.pcm is not None

    @property
    def transcript(self) -> str:
        return " ".join(cue.text for cue in self.cues)


def speech_executable() -> str | None:
    """espeak-ng (or the older espeak) on PATH, else None."""
    return shutil.which("espeak-ng") or shutil.which("espeak")


def transcript_of(sentences: tuple[str, ...]) -> str:
    """The transcript stored with a narrated block: the sentences as spoken, in order."""
    return " ".join(sentences)


def _speak(executable: str, sentence: str, folder: Path) -> np.ndarray:
    """One sentence as 16-bit mono PCM at SAMPLE_RATE (espeak-ng's own rate)."""
    target = folder / "sentence.wav"
    completed = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [
            executable,
            "-v",
            SPEECH_VOICE,
            "-s",
            str(SPEECH_WORDS_PER_MINUTE),
            "-w",
            str(target),
            sentence,
        ],
        capture_output=True,
        check=False,
    )
    if completed.returncode != 0 or not target.is_file():
        raise RuntimeError(f"espeak-ng could not speak: {completed.stderr.decode()[-300:]}")
    with wave.open(str(target), "rb") as stream:
        if stream.getsampwidth() != 2 or stream.getnchannels() != 1:
            raise RuntimeError("espeak-ng wrote an unexpected WAV format")
        rate = stream.getframerate()
        samples = np.frombuffer(stream.readframes(stream.getnframes()), dtype="<i2")
    if rate != SAMPLE_RATE:  # other builds speak at 16 kHz: resample linearly
        positions = np.arange(0, len(samples), rate / SAMPLE_RATE)
        samples = np.interp(positions, np.arange(len(samples)), samples).astype("<i2")
    # espeak-ng pads each sentence with silence; trim it so the gaps below set the rhythm.
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 200)
    if len(loud):
        samples = samples[max(0, loud[0] - 200) : loud[-1] + 400]
    return samples


@lru_cache(maxsize=8)  # the video and its captions share one narration
def narration_make(sentences: tuple[str, ...]) -> Narration:
    """Speak the sentences one after another, or time them at reading pace without espeak-ng."""
    executable = speech_executable()
    clips: list[np.ndarray] = []
    if executable is not None:
        with tempfile.TemporaryDirectory() as folder:
            clips = [_speak(executable, sentence, Path(folder)) for sentence in sentences]
        lengths = [len(clip) / SAMPLE_RATE for clip in clips]
    else:
        lengths = [len(sentence.split()) / SILENT_WORDS_PER_SECOND for sentence in sentences]
    cues = []
    clock = NARRATION_LEAD_SECONDS
    for sentence, length in zip(sentences, lengths, strict=True):
        cues.append(Cue(sentence, round(clock, 3), round(clock + length, 3)))
        clock += length + NARRATION_GAP_SECONDS
    seconds = math.ceil((cues[-1].end + NARRATION_TAIL_SECONDS) * VIDEO_FPS) / VIDEO_FPS
    if executable is None:
        return Narration(tuple(cues), seconds, None)
    track = np.zeros(round(seconds * SAMPLE_RATE), dtype="<i2")
    for cue, clip in zip(cues, clips, strict=True):
        begin = round(cue.start * SAMPLE_RATE)
        track[begin : begin + len(clip)] = clip[: len(track) - begin]
    return Narration(tuple(cues), seconds, track)


def _wav_bytes(pcm: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as stream:
        stream.setnchannels(1)
        stream.setsampwidth(2)
        stream.setframerate(SAMPLE_RATE)
        stream.writeframes(pcm.astype("<i2").tobytes())
    return buffer.getvalue()


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def captions_vtt(narration: Narration, name: str) -> MediaFile:
    """WebVTT captions, one cue per spoken sentence, on the narration's own timeline."""
    lines = ["WEBVTT", ""]
    for cue in narration.cues:
        lines += [f"{_vtt_time(cue.start)} --> {_vtt_time(cue.end)}", cue.text, ""]
    return MediaFile(name, "\n".join(lines).encode())


def evaluation_wav(narration: Narration | None = None) -> MediaFile | None:
    """The spoken evaluation of x^2 + 2x at x = -3; None without a speech engine."""
    narration = narration or narration_make(EVALUATION_NARRATION)
    if narration.pcm is None:
        return None
    return MediaFile(
        "evaluate-expression.wav",
        _wav_bytes(narration.pcm),
        duration_seconds=round(narration.seconds),
    )


# The number-line video ---------------------------------------------------------------------------


def _ease(value: float) -> float:
    value = min(1.0, max(0.0, value))
    return value * value * (3 - 2 * value)


def number_line_state(narration: Narration, seconds: float) -> tuple[float, str]:
    """Where the marker is and what the sum below says at a moment of the narration.

    The sum only ever shows a true statement: "-3 + k = n" with k the steps already taken.
    """
    _start, announce, count, land = narration.cues
    if seconds < count.start:
        caption = "Start at -3" if seconds < announce.start else "-3 + 5 = ?"
        return -3.0, caption
    if seconds < land.start:
        # One hop per spoken number: "minus two, minus one, zero, one, two".
        step_length = (count.end - count.start) / 5
        elapsed = (seconds - count.start) / step_length
        steps = min(5, int(elapsed))
        hop = _ease((elapsed - steps) / 0.6) if steps < 5 else 0.0
        position = -3 + steps + hop
        arrived = min(5, steps + (1 if hop >= 1.0 else 0))
        return position, f"-3 + {arrived} = {-3 + arrived}"
    return 2.0, "-3 + 5 = 2"


def _video_frames(narration: Narration) -> Iterator[bytes]:
    width, height = VIDEO_SIZE
    title, body = _font(30), _font(22)
    total = round(narration.seconds * VIDEO_FPS)
    for index in range(total):
        position, caption = number_line_state(narration, index / VIDEO_FPS)
        image = Image.new("RGB", VIDEO_SIZE, (248, 250, 252))
        draw = ImageDraw.Draw(image)
        draw.text((24, 20), "Integers on the number line", fill=(17, 24, 39), font=title)
        axis_y = height // 2 + 10
        draw.line([(40, axis_y), (width - 40, axis_y)], fill=(55, 65, 81), width=3)
        for tick in range(-5, 6):
            x = width // 2 + tick * 52
            draw.line([(x, axis_y - 10), (x, axis_y + 10)], fill=(55, 65, 81), width=2)
            label = str(tick)
            left = draw.textlength(label, font=body) / 2
            draw.text((x - left, axis_y + 16), label, fill=(55, 65, 81), font=body)
        start_x = width // 2 - 3 * 52
        draw.ellipse([start_x - 5, axis_y - 5, start_x + 5, axis_y + 5], fill=(148, 163, 184))
        marker = width // 2 + position * 52
        draw.ellipse([marker - 12, axis_y - 12, marker + 12, axis_y + 12], fill=(220, 38, 38))
        draw.text((24, height - 70), caption, fill=(37, 99, 235), font=_font(40))
        yield image.tobytes()


def number_line_mp4(narration: Narration | None = None) -> MediaFile | None:
    """The narrated H.264/AAC MP4 (yuv420p, faststart); None when no ffmpeg is available."""
    executable = ffmpeg_executable()
    if executable is None:
        return None
    narration = narration or narration_make(NUMBER_LINE_NARRATION)
    width, height = VIDEO_SIZE
    # faststart rewrites the file after encoding, so ffmpeg needs a seekable file, not a pipe.
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "video.mp4"
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
        ]
        if narration.pcm is not None:
            speech = Path(folder) / "narration.wav"
            speech.write_bytes(_wav_bytes(narration.pcm))
            command += ["-i", str(speech), "-c:a", "aac", "-b:a", "64k", "-ac", "1"]
        else:
            command += ["-an"]
        command += [
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
            str(target),
        ]
        process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        stdin = process.stdin
        if stdin is None:  # unreachable with stdin=PIPE; narrows the type
            raise RuntimeError("ffmpeg has no input pipe")
        try:
            for frame in _video_frames(narration):
                stdin.write(frame)
        except BrokenPipeError:
            pass  # ffmpeg stopped early: its message follows
        finally:
            stdin.close()
        stderr = process.stderr.read() if process.stderr else b""
        returncode = process.wait()
        if returncode != 0 or not target.is_file():
            raise RuntimeError(f"ffmpeg could not encode the demo video: {stderr.decode()[-500:]}")
        content = target.read_bytes()
    return MediaFile("number-line.mp4", content, duration_seconds=round(narration.seconds))


def number_line_vtt(narration: Narration | None = None) -> MediaFile:
    """WebVTT captions for the number-line video: exactly its spoken sentences."""
    return captions_vtt(narration or narration_make(NUMBER_LINE_NARRATION), "number-line.en.vtt")
