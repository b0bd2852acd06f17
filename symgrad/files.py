"""Reading small input files (values, answer files): bounded, UTF-8, one clear line for every problem."""

from __future__ import annotations

import os
import stat
from typing import Callable


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
        raise fail(f"is larger than {max_bytes // (1024 * 1024)} MB; expected a small {expected.removeprefix('a ')}")
    if refuse_nul and b"\x00" in raw:
        raise fail(f"is a binary file (it contains NUL bytes); expected {expected}")
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise fail(f"is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})") from None
