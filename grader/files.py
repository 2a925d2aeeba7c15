"""File helpers used across the grader: atomic writes, capped reads, safe zip members."""
import io
import os
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO


CACHE_ROOT = Path(os.environ.get("GRADER_CACHE_DIR") or Path.home() / ".cache" / "ml-autograder")


def atomic_write(path: os.PathLike | str, data: bytes | str, mode: int = 0o644) -> Path:
    """Write a whole file so no reader ever sees half of it.

    On failure (a full disk) no temporary file is left behind and the old
    file, if any, is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8", errors="replace") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_prefix(path: os.PathLike | str, limit: int) -> bytes:
    """At most `limit` bytes from the start of a file (one past a cap tells "too large")."""
    with open(path, "rb") as handle:
        return handle.read(limit)


def printable(name: str) -> str:
    """A file name as text whatever bytes it was made of (undecodable bytes become U+FFFD)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def zip_member_path(member: zipfile.ZipInfo) -> tuple[PurePosixPath | None, str | None]:
    """(relative path, None) for a member safe to use, else (None, why not).

    Unsafe: an absolute path, `..`, a drive letter, a symbolic link.
    macOS's __MACOSX metadata is skipped without a reason. Encryption is the
    caller's to judge (a student's own encrypted zip deserves its own message).
    """
    name = member.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or ".." in parts or ":" in parts[0]:
        return None, "a path outside the archive"
    if stat.S_ISLNK(member.external_attr >> 16):
        return None, "a symbolic link"
    if "__MACOSX" in parts:
        return None, None
    return PurePosixPath(*parts), None


class TooLarge(ValueError):
    """More bytes than the cap allowed."""


def copy_capped(source: BinaryIO, sink: BinaryIO, limit: int) -> int:
    """Copy source to sink in 1 MiB chunks; raise TooLarge once more than limit bytes came.

    Whatever a header or a stat claimed, at most limit + 1 MiB is ever read.
    """
    copied = 0
    while chunk := source.read(2**20):
        copied += len(chunk)
        if copied > limit:
            raise TooLarge(f"more than {limit} bytes")
        sink.write(chunk)
    return copied


def read_capped(source: BinaryIO, limit: int) -> bytes:
    """All of source, or TooLarge past limit bytes."""
    buffer = io.BytesIO()
    copy_capped(source, buffer, limit)
    return buffer.getvalue()
