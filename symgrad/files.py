"""Files in and out. Reading small input files (values, answer files): bounded, UTF-8, one clear line
for every problem. Writing results: to stdout, or atomically to a file (a failed run never leaves a
partial file).

A regular file (or a new one) is written to a temporary file in the same folder and renamed over the
target, keeping the target's permissions (or the umask's, for a new file). A symlink is followed, so
the file it points to is updated and the link stays. Something that is not a regular file (a device
such as /dev/null or /dev/stdout, a pipe) is written to directly: it cannot be replaced atomically,
and replacing it would destroy it.
"""

from __future__ import annotations

import os
import select
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from .errors import OutputClosed, OutputError

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


# --- writing




def check_target(path: str, inputs: dict[str, str] | None = None) -> None:
    """Refuse an -o path that cannot be written, before any work is done: empty, a folder (or ending
    in '/'), in a folder that does not exist, or the same file as one of `inputs` ({what: path}), which
    the output would overwrite. write_atomic() checks again when it writes."""
    if not str(path).strip():
        raise OutputError("-o got an empty path; expected a file name")
    if str(path).endswith(("/", os.sep)) and not os.path.isdir(path):
        raise OutputError(f"-o {path!r} ends with '/', so it names a folder; expected a file path")
    if os.path.isdir(path):
        raise OutputError(f"-o {path!r} is a directory; expected a file path")
    folder = Path(os.path.realpath(path)).parent
    if not os.path.exists(path) and not folder.is_dir():
        raise OutputError(f"-o {path!r}: folder {str(Path(path).parent)!r} does not exist")
    for what, source in (inputs or {}).items():
        if source is not None and _same_file(path, source):
            raise OutputError(f"-o {path!r} is {what}; writing there would destroy it, so choose another file")
    if inputs is not None:  # before the work: can a file be made beside it? (write_atomic makes one there)
        try:
            info = os.stat(path)
        except OSError:
            info = None
        if info is None or stat.S_ISREG(info.st_mode):
            try:
                fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{folder.name or 'probe'}.", suffix=".probe")
            except OSError as error:
                raise OutputError(f"-o {path!r} cannot be written: {error.strerror}") from None
            os.close(fd)
            _remove(probe)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def write_atomic(path: str, text: str | bytes | list[bytes]) -> None:
    """Write `text` (or bytes: a GIF, a PNG; or a list of bytes, one after another) to `path` (see the module doc for how each kind of target is treated)."""
    check_target(path)
    try:
        info = os.stat(path)  # follows symlinks
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise OutputError(f"-o {path!r} cannot be written: {error.strerror}") from None
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
        with (os.fdopen(fd, "wb") if _binary(text) else os.fdopen(fd, "w", encoding="utf-8")) as handle:
            _write_all(handle, text)
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


def _write_directly(path: str, text: str | bytes | list[bytes]) -> None:
    try:
        with (open(path, "wb") if _binary(text) else open(path, "w", encoding="utf-8")) as handle:
            _write_all(handle, text)
    except OSError as error:
        raise OutputError(f"-o {path!r} cannot be written: {error.strerror}") from None


def _binary(text) -> bool:
    """Bytes, or a list of bytes (a big report's pieces, written one after another: not joined first)."""
    return isinstance(text, (bytes, list))


def _decoded(text) -> str:
    if isinstance(text, list):
        text = b"".join(text)
    return text.decode() if isinstance(text, bytes) else text


def _write_all(handle, text) -> None:
    if isinstance(text, list):
        handle.writelines(text)
    else:
        handle.write(text)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_stdout(text: str | bytes | list[bytes]) -> None:
    """Write to standard output (bytes, or a list of them: UTF-8, as they are); a reader that closed the pipe (`| head`)
    silences the rest, and the run goes on to its exit code (0 done, 1 a wrong answer or a failed identity)."""
    try:
        with stdout_errors():
            raw = getattr(sys.stdout, "buffer", None)  # (bytes go under the text layer, when there is one)
            if _binary(text) and raw is not None:
                sys.stdout.flush()
                _write_all(raw, text)
                raw.flush()
            else:
                sys.stdout.write(_decoded(text))
                sys.stdout.flush()
    except OutputClosed:
        silence_stdout()


def silence_stdout() -> None:
    """After a closed pipe, send what is left (the interpreter's last flush too) nowhere, so that Python
    does not print 'Exception ignored ... BrokenPipeError' on the way out."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


class stdout_errors:
    """Turn a failed write to standard output (a full disk, a closed stream) into one OutputError line;
    a closed pipe (`| head`, `| true`) becomes OutputClosed, which the CLI ends quietly with 0."""

    def __enter__(self):
        if sys.stdout is None:
            raise OutputError("cannot write to standard output: it is closed; use -o FILE")
        return self

    def __exit__(self, kind, error, tb):
        if kind is not None and issubclass(kind, BrokenPipeError):
            raise OutputClosed() from None
        if kind is None or not issubclass(kind, (OSError, ValueError)):
            return False
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise OutputError(f"cannot write to standard output: {reason}; use -o FILE") from None
