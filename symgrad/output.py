"""Writing results: to stdout, or atomically to a file (a failed run never leaves a partial file)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from .errors import SymgradError


class OutputError(SymgradError):
    """The output file cannot be written."""


def write_atomic(path: str, text: str) -> None:
    """Write `text` to `path` via a temporary file in the same folder and an atomic rename."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise OutputError(f"-o {path!r} is a directory; expected a file path")
    if not folder.is_dir():
        raise OutputError(f"-o {path!r}: folder {str(folder)!r} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise OutputError(f"-o {path!r} cannot be written: {error.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as error:
        _remove(tmp)
        raise OutputError(f"-o {path!r} cannot be written: {error.strerror}") from None
    except BaseException:
        _remove(tmp)
        raise


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
