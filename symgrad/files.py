"""Reading small input files (values, answer files): bounded, UTF-8, one clear line for every problem."""

from __future__ import annotations

import os
import select
import stat
import time
from typing import Callable

PIPE_IDLE_SECONDS = 10  # a pipe that stays silent this long is given up on


def read_small_text(path: str, expected: str, max_bytes: int, fail: Callable[[str], Exception],
                    regular_only: bool = False) -> str:
    """The text of a file of at most `max_bytes`; `expected` names what it should be ("a JSON file").

    Every problem raises `fail(problem)`. regular_only: refuse pipes and devices (reading a FIFO from
    a batch would block forever) and files with NUL bytes."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise fail(f"is a directory; expected {expected}")
        if regular_only and not stat.S_ISREG(info.st_mode):
            raise fail(f"is not a regular file (a pipe or a device); expected {expected}")
        if stat.S_ISFIFO(info.st_mode):
            raw = _read_pipe(path, max_bytes + 1, fail)
        else:
            with open(path, "rb") as handle:
                raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise fail(f"does not exist; expected {expected}") from None
    except PermissionError:
        raise fail("cannot be read (permission denied)") from None
    except OSError as error:
        raise fail(f"cannot be read ({error.strerror or error})") from None
    return decode_text(raw, expected, max_bytes, fail, refuse_nul=regular_only)


def decode_text(raw: bytes, expected: str, max_bytes: int, fail: Callable[[str], Exception], refuse_nul: bool = False) -> str:
    """Bytes read with a limit of max_bytes + 1, as text: refused if too long, binary or not UTF-8."""
    if len(raw) > max_bytes:
        size = f"{max_bytes // 2**20} MB" if max_bytes % 2**20 == 0 else f"{max_bytes / 2**20:.1f} MB"
        raise fail(f"is larger than {size}; expected a small {expected.removeprefix('a ')}")
    if refuse_nul and b"\x00" in raw:
        raise fail(f"is a binary file (it contains NUL bytes); expected {expected}")
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise fail(f"is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})") from None


def _read_pipe(path: str, limit: int, fail: Callable[[str], Exception]) -> bytes:
    """Read a named pipe or `<(...)` without blocking forever: opened non-blocking (a FIFO nobody
    writes to would otherwise block open() itself), then read while data keeps coming."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    chunks: list[bytes] = []
    size = 0
    try:
        deadline = time.monotonic() + PIPE_IDLE_SECONDS
        while size < limit:
            try:  # read first: a FIFO that no writer has opened reads as the end at once
                chunk = os.read(fd, min(65536, limit - size))
            except BlockingIOError:  # a writer is there but has sent nothing yet: wait for it
                ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
                if not ready:
                    raise fail(f"is a pipe that sent nothing for {PIPE_IDLE_SECONDS} s; expected a file") from None
                continue
            if not chunk:
                break  # every writer has closed it (or none ever opened it)
            chunks.append(chunk)
            size += len(chunk)
            deadline = time.monotonic() + PIPE_IDLE_SECONDS
    finally:
        os.close(fd)
    if not chunks:
        raise fail("is a pipe with nothing written to it; expected a file")
    return b"".join(chunks)
