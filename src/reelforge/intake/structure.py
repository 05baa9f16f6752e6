"""Container structure read in plain Python, before any FFmpeg or Pillow code sees the bytes.

Each scanner reads only headers (box, chunk and frame headers; a few hundred bytes each) and
answers two questions: is the file cut short (a box, chunk or tag that claims more bytes than the
file holds), and how long do its headers say it is. A file whose header claims two hours is
thereby refused before a single packet is read, and a truncated upload fails at create time
instead of minutes later in a worker.

- PNG: the chunk list up to IEND.
- ISO BMFF (MP4, MOV): the box tree; durations from `mvhd`, every `mdhd` and `mehd`.
- WAV: the RIFF chunk list; duration from the `data` size and the `fmt ` byte rate.
- MP3: the ID3v2 tag size, and the Xing/Info or VBRI header of the first frame (frame and byte
  counts, so both the claimed length and a cut-off tail are known).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

MAX_BOXES = 20_000  # boxes or chunks looked at in one file; more is a malformed (hostile) file
_ISO_CONTAINERS = {b"moov", b"trak", b"mdia", b"mvex", b"edts"}
_UNKNOWN_32 = 0xFFFFFFFF
_UNKNOWN_64 = 0xFFFFFFFFFFFFFFFF


class MalformedContainer(Exception):
    """The structure is not what its format requires (not merely cut short)."""


@dataclass
class Scan:
    """What the headers say: durations claimed (by whom) and, if so, where the file is cut."""

    claims: list[tuple[str, float]] = field(default_factory=list)
    truncated: str | None = None

    @property
    def longest_claim(self) -> tuple[str, float] | None:
        return max(self.claims, key=lambda c: c[1]) if self.claims else None


def _file_size(f: BinaryIO) -> int:
    f.seek(0, 2)
    size = f.tell()
    f.seek(0)
    return size


# ---- PNG -------------------------------------------------------------------------------------


def scan_png(f: BinaryIO) -> Scan:
    size = _file_size(f)
    scan = Scan()
    off = 8
    for _ in range(MAX_BOXES):
        if off + 12 > size:
            scan.truncated = f"the file ends at byte {size} before the IEND chunk"
            return scan
        f.seek(off)
        length, ctype = struct.unpack(">I4s", f.read(8))
        end = off + 12 + length
        if end > size:
            name = ctype.decode("latin-1")
            scan.truncated = f"the {name} chunk at byte {off} needs {length + 12} bytes; the file "
            scan.truncated += f"ends {end - size} bytes short"
            return scan
        if ctype == b"IEND":
            return scan
        off = end
    raise MalformedContainer(f"more than {MAX_BOXES} PNG chunks")


# ---- ISO BMFF (MP4, MOV) ---------------------------------------------------------------------


@dataclass
class _IsoState:
    budget: int = MAX_BOXES
    movie_timescale: int | None = None
    fragment_duration: int | None = None


def scan_iso_bmff(f: BinaryIO) -> Scan:
    size = _file_size(f)
    scan = Scan()
    state = _IsoState()
    _iso_walk(f, 0, size, 0, scan, state)
    if state.fragment_duration is not None and state.movie_timescale:
        scan.claims.append(("mehd", state.fragment_duration / state.movie_timescale))
    return scan


def _iso_walk(f: BinaryIO, start: int, end: int, depth: int, scan: Scan, state: _IsoState) -> None:
    off = start
    while off < end and scan.truncated is None:
        state.budget -= 1
        if state.budget < 0:
            raise MalformedContainer(f"more than {MAX_BOXES} boxes")
        if off + 8 > end:
            if depth == 0:
                scan.truncated = f"{end - off} stray bytes at the end cannot hold a box header"
            return  # inside a box: padding
        f.seek(off)
        header = f.read(16)
        box_size, btype = struct.unpack(">I4s", header[:8])
        header_len = 8
        if box_size == 1:
            if len(header) < 16:
                scan.truncated = f"the file ends inside the header of the box at byte {off}"
                return
            box_size = struct.unpack(">Q", header[8:16])[0]
            header_len = 16
        elif box_size == 0:
            box_size = end - off  # extends to the end of its parent (or of the file)
        name = btype.decode("latin-1")
        if box_size < header_len:
            raise MalformedContainer(f"the {name!r} box at byte {off} has size {box_size}")
        if off + box_size > end:
            where = "the file" if depth == 0 else "its parent box"
            scan.truncated = (
                f"the {name!r} box at byte {off} needs {box_size} bytes; {where} ends "
                f"{off + box_size - end} bytes short"
            )
            return
        body = off + header_len
        if btype in _ISO_CONTAINERS and depth < 8:
            _iso_walk(f, body, off + box_size, depth + 1, scan, state)
        elif btype in (b"mvhd", b"mdhd", b"mehd"):
            _iso_duration(f, body, box_size - header_len, name, scan, state)
        off += box_size


def _iso_duration(
    f: BinaryIO, body: int, length: int, name: str, scan: Scan, state: _IsoState
) -> None:
    f.seek(body)
    data = f.read(min(length, 40))
    if len(data) < 4:
        return
    version = data[0]
    if name == "mehd":
        fmt, at = (">Q", 4) if version == 1 else (">I", 4)
        if len(data) >= at + struct.calcsize(fmt):
            value = struct.unpack_from(fmt, data, at)[0]
            if value not in (_UNKNOWN_32, _UNKNOWN_64):
                state.fragment_duration = value
        return
    # (version, flags), creation and modification times, timescale, duration
    if version == 1:
        if len(data) < 32:
            return
        timescale, duration = struct.unpack_from(">IQ", data, 20)
        unknown = _UNKNOWN_64
    else:
        if len(data) < 20:
            return
        timescale, duration = struct.unpack_from(">II", data, 12)
        unknown = _UNKNOWN_32
    if name == "mvhd" and timescale:
        state.movie_timescale = timescale
    if timescale and duration != unknown:
        scan.claims.append((name, duration / timescale))


# ---- WAV -------------------------------------------------------------------------------------


def scan_wav(f: BinaryIO) -> Scan:
    size = _file_size(f)
    scan = Scan()
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise MalformedContainer("no RIFF/WAVE header")
    off, byte_rate = 12, 0
    for _ in range(MAX_BOXES):
        if off + 8 > size:
            scan.truncated = f"the file ends at byte {size} before its data chunk"
            return scan
        f.seek(off)
        cid, csize = struct.unpack("<4sI", f.read(8))
        if cid == b"fmt ":
            fmt = f.read(min(csize, 16))
            if len(fmt) >= 12:
                byte_rate = struct.unpack_from("<I", fmt, 8)[0]
        if cid == b"data":
            if csize in (0, _UNKNOWN_32):  # a streamed WAV: the data runs to the end
                csize = size - off - 8
            if off + 8 + csize > size:
                scan.truncated = (
                    f"the data chunk claims {csize} bytes; the file holds {size - off - 8} of them"
                )
            if byte_rate:
                scan.claims.append(("data chunk", csize / byte_rate))
            return scan
        off += 8 + csize + (csize & 1)
    raise MalformedContainer(f"more than {MAX_BOXES} RIFF chunks")


# ---- MP3 -------------------------------------------------------------------------------------

_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_FIND_FRAME_WITHIN = 64 * 1024


def scan_mp3(f: BinaryIO) -> Scan:
    size = _file_size(f)
    scan = Scan()
    head = f.read(10)
    start = 0
    if head[:3] == b"ID3" and len(head) == 10:
        tag = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        start = 10 + tag + (10 if head[5] & 0x10 else 0)
        if start > size:
            scan.truncated = f"the ID3 tag claims {start} bytes; the file holds {size}"
            return scan
    f.seek(start)
    window = f.read(_FIND_FRAME_WITHIN)
    at = _first_frame(window)
    if at is None:
        return scan  # no frame header found here: FFmpeg will have its say
    frame_start = start + at
    frame = window[at : at + 200]
    version, layer = (frame[1] >> 3) & 3, (frame[1] >> 1) & 3
    rate = _MP3_RATES[version][(frame[2] >> 2) & 3]
    mono = (frame[3] >> 6) & 3 == 3
    samples = {1: 1152 if version == 3 else 576, 2: 1152, 3: 384}[layer]
    side = (21 if mono else 36) if version == 3 else (13 if mono else 21)
    frames = nbytes = None
    if frame[side : side + 4] in (b"Xing", b"Info") and len(frame) >= side + 16:
        flags = struct.unpack_from(">I", frame, side + 4)[0]
        p = side + 8
        if flags & 1:
            frames = struct.unpack_from(">I", frame, p)[0]
            p += 4
        if flags & 2:
            nbytes = struct.unpack_from(">I", frame, p)[0]
    elif frame[36:40] == b"VBRI" and len(frame) >= 54:
        nbytes, frames = struct.unpack_from(">II", frame, 46)
    if frames:
        scan.claims.append(("Xing/VBRI header", frames * samples / rate))
    if nbytes:
        f.seek(max(size - 128, 0))
        audio_end = size - 128 if f.read(3) == b"TAG" else size
        if frame_start + nbytes > audio_end:
            scan.truncated = (
                f"its header claims {nbytes} bytes of audio; the file holds "
                f"{audio_end - frame_start}"
            )
    return scan


def _first_frame(window: bytes) -> int | None:
    at = window.find(b"\xff")
    while 0 <= at <= len(window) - 4:
        b1, b2 = window[at + 1], window[at + 2]
        if (
            b1 & 0xE0 == 0xE0
            and (b1 >> 3) & 3 != 1  # version: not reserved
            and (b1 >> 1) & 3 != 0  # layer: not reserved
            and b2 >> 4 not in (0, 15)  # bitrate: neither free nor bad
            and (b2 >> 2) & 3 != 3  # sample rate: not reserved
        ):
            return at
        at = window.find(b"\xff", at + 1)
    return None
