"""Writing results: to stdout, or atomically to a file (a failed run never leaves a partial file).

A regular file (or a new one) is written to a temporary file in the same folder and renamed over the
target, keeping the target's permissions (or the umask's, for a new file). A symlink is followed, so
the file it points to is updated and the link stays. Something that is not a regular file (a device
such as /dev/null or /dev/stdout, a pipe) is written to directly: it cannot be replaced atomically,
and replacing it would destroy it.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from .errors import SymgradError


class OutputError(SymgradError):
    """The output file cannot be written."""


def write_atomic(path: str, text: str) -> None:
    """Write `text` to `path` (see the module doc for how each kind of target is treated)."""
    if not str(path).strip():
        raise OutputError("-o got an empty path; expected a file name")
    try:
        info = os.stat(path)  # follows symlinks
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise OutputError(f"-o {path!r} cannot be written: {error.strerror}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(f"-o {path!r} is a directory; expected a file path")
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_directly(path, text)
        return
    target = Path(os.path.realpath(path))  # a symlink: update the file it points to, keep the link
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"-o {path!r}: folder {str(Path(path).parent)!r} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise OutputError(f"-o {path!r} cannot be written: {error.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except OSError as error:
        _remove(tmp)
        raise OutputError(f"-o {path!r} cannot be written: {error.strerror}") from None
    except BaseException:
        _remove(tmp)
        raise


def _write_directly(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise OutputError(f"-o {path!r} cannot be written: {error.strerror}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
