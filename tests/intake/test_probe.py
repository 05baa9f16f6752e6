"""probe.py, formats.py and structure.py on their own: what is read before anything decodes, and
that user media never reaches the network."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import random
import resource
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from PIL import Image

from reelforge.errors import InvalidRequest
from reelforge.intake import probe as probe_module
from reelforge.intake.formats import declared_by_filename, declared_by_mime, sniff_format
from reelforge.intake.limits import Limits
from reelforge.intake.probe import OPEN_OPTIONS, ProbeResult, open_media, probe, sniff_kind
from reelforge.intake.structure import scan_iso_bmff, scan_mp3, scan_png, scan_wav
from reelforge.spec import ReferenceKind
from tests.intake import media

IMAGE, VIDEO, AUDIO = ReferenceKind.IMAGE, ReferenceKind.VIDEO, ReferenceKind.AUDIO
Corpus = dict[str, bytes]


def run(tmp_path: Path, data: bytes, kind: ReferenceKind, limits: Limits | None = None,
        name: str = "ref") -> ProbeResult:  # fmt: skip
    path = tmp_path / name
    path.write_bytes(data)
    return probe(path, kind, param="references[0]", index=0, limits=limits)


def refused(tmp_path: Path, data: bytes, kind: ReferenceKind, limits: Limits | None = None
            ) -> InvalidRequest:  # fmt: skip
    with pytest.raises(InvalidRequest) as info:
        run(tmp_path, data, kind, limits)
    return info.value


# ---- formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "name"),
    [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP"), ("bmp", "BMP"), ("tiff", "TIFF"),
     ("gif", "GIF"), ("mp4_3s", "MP4"), ("mov_3s", "MOV"), ("mkv", "MKV"), ("mp3", "MP3"),
     ("wav", "WAV")],
)  # fmt: skip
def test_magic_bytes_name_the_format(corpus: Corpus, key: str, name: str) -> None:
    fmt = sniff_format(corpus[key][:64])
    assert fmt is not None and fmt.name == name
    assert sniff_kind(corpus[key][:16]) is fmt.kind  # the 16-byte form the API layer uses


@pytest.mark.parametrize(
    "head", [b"", b"hello world", b"<!DOCTYPE html>", b"\xff\xfe\x00\x00", b"BMP is a word"]
)
def test_unknown_bytes_are_no_format(head: bytes) -> None:
    assert sniff_format(head) is None


def test_declarations_map_to_formats() -> None:
    assert declared_by_mime("image/jpg; charset=binary").name == "JPEG"  # type: ignore[union-attr]
    assert declared_by_mime("application/octet-stream") is None
    assert declared_by_filename("C:\\photos\\IMG_1.JPEG").name == "JPEG"  # type: ignore[union-attr]
    assert declared_by_filename("clip.mov").same_as(sniff_format(b"\0\0\0\x18ftypisom"))  # type: ignore[arg-type,union-attr]
    assert declared_by_filename("noextension") is None


# ---- images --------------------------------------------------------------------------------


def test_png_header_of_30000_squared_is_refused_without_allocating(tmp_path: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.perf_counter()
    err = refused(tmp_path, media.png_header_only(30000, 30000), IMAGE)
    assert time.perf_counter() - start < 0.5
    assert err.code == "invalid_reference.image_too_many_pixels"
    assert "900,000,000" in err.message
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 200  # decoding it would take 2.5 GiB


@pytest.mark.parametrize("side", [9000, 10000])  # under and over Pillow's own warning level
def test_our_pixel_guard_fires_before_pillows(tmp_path: Path, side: int) -> None:
    err = refused(tmp_path, media.png_header_only(side, side), IMAGE)
    assert err.code == "invalid_reference.image_too_many_pixels"
    assert f"{side * side:,}" in err.message


def test_exif_rotation_is_reported_as_shown(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90: a 640x480 sensor image shows as 480x640
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 20, 20)).save(buf, "JPEG", exif=exif.tobytes())
    info = run(tmp_path, buf.getvalue(), IMAGE)
    assert (info.width, info.height) == (480, 640)


def test_only_the_sniffed_pillow_plugin_reads_the_file(tmp_path: Path, corpus: Corpus) -> None:
    limits = dataclasses.replace(Limits(), image_formats=("PNG",))
    err = refused(tmp_path, corpus["jpeg"], IMAGE, limits)
    assert err.code == "invalid_reference.format" and "allowed: PNG" in err.message


def test_messages_do_not_leak_server_paths(tmp_path: Path) -> None:
    garbage_png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\x01" * 40
    err = refused(tmp_path, garbage_png, IMAGE)
    assert err.code in ("invalid_reference.undecodable", "invalid_reference.truncated")
    assert str(tmp_path) not in err.message


# ---- video ---------------------------------------------------------------------------------


def test_valid_video_facts(tmp_path: Path, corpus: Corpus) -> None:
    info = run(tmp_path, corpus["mp4_3s_audio"], VIDEO)
    assert (info.width, info.height, info.fps, info.has_audio) == (640, 640, 24.0, True)
    assert info.seconds == pytest.approx(3.0, abs=0.05)
    assert info.mime_type == "video/mp4"


def test_two_hour_claim_is_refused_before_ffmpeg_opens_the_file(
    tmp_path: Path, corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(probe_module, "open_media", never)
    err = refused(tmp_path, corpus["mp4_2h"], VIDEO)
    assert err.code == "invalid_reference.video_too_long"
    assert "mvhd" in err.message and "7,200" in err.message


def test_missing_packets_are_found_by_counting(tmp_path: Path, corpus: Corpus) -> None:
    scan = scan_iso_bmff(io.BytesIO(corpus["mp4_lying_mdat"]))
    assert scan.truncated is None  # the box tree looks whole
    err = refused(tmp_path, corpus["mp4_lying_mdat"], VIDEO)
    assert err.code == "invalid_reference.truncated" and "72 frames" in err.message


def test_frame_cap_from_the_header(tmp_path: Path, corpus: Corpus) -> None:
    limits = dataclasses.replace(Limits(), min_video_fps=1.0, max_video_fps=5.0)
    assert limits.max_video_frames == 76
    err = refused(tmp_path, corpus["mp4_10s"], VIDEO, limits)
    assert err.code == "invalid_reference.video_too_many_frames"
    assert "240 frames" in err.message


def test_codec_allow_list_is_a_setting(tmp_path: Path, corpus: Corpus) -> None:
    limits = dataclasses.replace(Limits(), video_codecs=("hevc",))
    err = refused(tmp_path, corpus["mp4_3s"], VIDEO, limits)
    assert err.code == "invalid_reference.codec" and "h264" in err.message


def test_probing_has_a_deadline(tmp_path: Path, corpus: Corpus) -> None:
    limits = dataclasses.replace(Limits(), probe_timeout_seconds=1e-9)
    assert refused(tmp_path, corpus["mp4_3s"], VIDEO, limits).code == (
        "invalid_reference.probe_timeout"
    )


def test_stream_count_is_capped(tmp_path: Path, corpus: Corpus) -> None:
    limits = dataclasses.replace(Limits(), max_streams=1)
    err = refused(tmp_path, corpus["mp4_3s_audio"], VIDEO, limits)
    assert err.code == "invalid_reference.too_many_streams"


# ---- audio ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["mp3", "wav"])
def test_valid_audio_facts(tmp_path: Path, corpus: Corpus, key: str) -> None:
    info = run(tmp_path, corpus[key], AUDIO)
    assert info.seconds == pytest.approx(3.0, abs=0.1)
    assert info.mime_type == {"mp3": "audio/mpeg", "wav": "audio/wav"}[key]


def test_audio_without_a_length_header_stops_decoding_at_the_cap(tmp_path: Path) -> None:
    bare = media.audio_bytes(3, "mp3", xing=False)
    assert scan_mp3(io.BytesIO(bare)).claims == []
    assert run(tmp_path, bare, AUDIO).seconds == pytest.approx(3.0, abs=0.1)
    limits = dataclasses.replace(Limits(), max_audio_seconds=2.0, min_audio_seconds=1.0)
    err = refused(tmp_path, bare, AUDIO, limits)
    assert err.code == "invalid_reference.audio_too_long"
    assert "decoding stopped" in err.message


# ---- structure scanners --------------------------------------------------------------------


def test_scanners_read_claims_and_cuts(corpus: Corpus) -> None:
    mp4 = scan_iso_bmff(io.BytesIO(corpus["mp4_3s"]))
    assert mp4.truncated is None
    assert {name for name, _ in mp4.claims} == {"mvhd", "mdhd"}
    assert all(s == pytest.approx(3.0, abs=0.05) for _, s in mp4.claims)
    assert scan_iso_bmff(io.BytesIO(corpus["mp4_2h"])).longest_claim == ("mvhd", 7200.0)
    assert scan_iso_bmff(io.BytesIO(corpus["mp4_cut"])).truncated
    assert scan_wav(io.BytesIO(corpus["wav"])).longest_claim == ("data chunk", 3.0)
    assert scan_wav(io.BytesIO(corpus["wav_cut"])).truncated
    mp3 = scan_mp3(io.BytesIO(corpus["mp3"]))
    assert mp3.truncated is None and mp3.claims[0][1] == pytest.approx(3.0, abs=0.1)
    assert scan_mp3(io.BytesIO(corpus["mp3_cut"])).truncated
    assert scan_png(io.BytesIO(corpus["png"])).truncated is None
    assert scan_png(io.BytesIO(corpus["png_cut"])).truncated
    assert scan_png(io.BytesIO(corpus["png"][:-12])).truncated  # no IEND


# ---- no network from media -----------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[int, list[int]]]:
    """A TCP listener on loopback that records (and drops) every connection."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    seen: list[int] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            seen.append(1)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join(2)
    server.close()


def test_protocol_whitelist_is_honoured_for_nested_opens(
    tmp_path: Path, listener: tuple[int, list[int]]
) -> None:
    """Even with a demuxer that fetches (HLS), the `file`-only whitelist stops the segment
    request; without it the same playlist does connect (the control)."""
    port, seen = listener
    playlist = tmp_path / "list.m3u8"
    playlist.write_bytes(media.hls_playlist(f"http://127.0.0.1:{port}/seg.ts"))
    with pytest.raises(av.FFmpegError):
        av.open(f"file:{playlist}", format="hls", options=OPEN_OPTIONS, timeout=2).close()
    time.sleep(0.2)
    assert seen == []
    with pytest.raises(av.FFmpegError):
        av.open(f"file:{playlist}", format="hls", options={"protocol_whitelist": "file,http,tcp"},
                timeout=2).close()  # fmt: skip
    deadline = time.monotonic() + 2
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen, "control: without the whitelist FFmpeg does connect"


def test_network_urls_never_open(listener: tuple[int, list[int]]) -> None:
    port, seen = listener
    with pytest.raises(av.FFmpegError):
        av.open(f"http://127.0.0.1:{port}/a.mp4", options=OPEN_OPTIONS, timeout=2)
    time.sleep(0.2)
    assert seen == []


def test_a_playlist_sent_as_a_video_is_refused_unread(
    tmp_path: Path, listener: tuple[int, list[int]]
) -> None:
    port, seen = listener
    err = refused(tmp_path, media.hls_playlist(f"http://127.0.0.1:{port}/seg.ts"), VIDEO)
    assert err.code == "invalid_reference.format" and "#EXTM3U" in err.message
    time.sleep(0.2)
    assert seen == []


def test_open_media_forces_the_demuxer(tmp_path: Path, corpus: Corpus) -> None:
    path = tmp_path / "x"
    path.write_bytes(corpus["mp3"])
    with pytest.raises(av.FFmpegError):
        open_media(path, "mov").close()  # an MP3 is not read as anything but what we sniffed
    with open_media(path, "mp3") as container:
        assert container.format.name == "mp3"


# ---- damaged bytes never escape as anything but a refusal --------------------------------


@pytest.mark.parametrize(
    ("key", "kind"),
    [("png", IMAGE), ("jpeg", IMAGE), ("mp4_3s_audio", VIDEO), ("mp3", AUDIO), ("wav", AUDIO)],
)
def test_mutated_files_are_probed_or_refused(
    tmp_path: Path, corpus: Corpus, key: str, kind: ReferenceKind
) -> None:
    """Flip bytes in headers and bodies: every outcome is a result or an InvalidRequest."""
    rng = random.Random(key)
    original = corpus[key]
    for _ in range(25):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(min(len(data), 2048) if rng.random() < 0.7 else len(data))
            data[at] = rng.randrange(256)
        with contextlib.suppress(InvalidRequest):
            run(tmp_path, bytes(data), kind)
