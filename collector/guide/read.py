"""Reading a guide from disk (or a stream such as stdin): size and type checks, decoding,
then `parse_guide`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from linkfresh.collector.guide.parse import parse_guide
from linkfresh.collector.types import Guide

DEFAULT_MAX_GUIDE_BYTES = 20 * 1024 * 1024
_SNIFF_BYTES = 8192


class GuideError(Exception):
    """The guide cannot be read at all; the message names the file and the reason."""


def decode_guide(data: bytes, path: str) -> tuple[str, str, tuple[str, ...]]:
    """Decode guide bytes: UTF-8 (with or without BOM), else cp1252, else Latin-1.

    Returns the text, the encoding used and warnings. Keeping the encoding lets `fix`
    write the file back byte for byte.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig", ()
    try:
        return data.decode("utf-8"), "utf-8", ()
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        for fallback in ("cp1252", "latin-1"):
            try:
                text = data.decode(fallback)
            except UnicodeDecodeError:
                continue
            warning = (
                f"{path}:{line}: not valid UTF-8 (byte 0x{data[error.start]:02x} at offset "
                f"{error.start}); read as {fallback}"
            )
            return text, fallback, (warning,)
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def read_guide_text(
    path: Path, max_bytes: int = DEFAULT_MAX_GUIDE_BYTES
) -> tuple[str, str, tuple[str, ...]]:
    """Read and decode `path`, raising `GuideError` with a clear reason when it cannot be."""
    if not path.exists():
        raise GuideError(f"{path}: no such file")
    if path.is_dir():
        raise GuideError(f"{path}: is a directory, not a markdown guide")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise GuideError(
                f"{path}: {size / 1048576:.1f} MiB is over the {max_bytes / 1048576:.0f} MiB limit "
                "for a guide (check.max_guide_bytes)"
            )
        data = path.read_bytes()
    except OSError as error:
        raise GuideError(f"{path}: cannot read: {error.strerror or error}") from error
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise GuideError(f"{path}: looks like a binary file (NUL bytes), not a markdown guide")
    return decode_guide(data, str(path))


def read_guide(
    path: Path, max_bytes: int = DEFAULT_MAX_GUIDE_BYTES, name: str | None = None
) -> Guide:
    """Read, decode and parse a guide; warnings (encoding, front matter) ride on the Guide."""
    text, encoding, warnings = read_guide_text(path, max_bytes)
    guide = parse_guide(text, name or str(path))
    return replace(guide, encoding=encoding, warnings=warnings + guide.warnings)


def read_guide_stream(
    stream: BinaryIO, max_bytes: int = DEFAULT_MAX_GUIDE_BYTES, name: str = "<stdin>"
) -> Guide:
    """Read a guide from `stream` (standard input for `-`) with the same checks as a file."""
    try:
        data = stream.read(max_bytes + 1)
    except OSError as error:
        raise GuideError(f"{name}: cannot read: {error.strerror or error}") from error
    if len(data) > max_bytes:
        raise GuideError(f"{name}: over the {max_bytes / 1048576:.0f} MiB limit for a guide "
                         "(check.max_guide_bytes)")
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise GuideError(f"{name}: looks like binary data (NUL bytes), not a markdown guide")
    text, encoding, warnings = decode_guide(data, name)
    guide = parse_guide(text, name)
    return replace(guide, encoding=encoding, warnings=warnings + guide.warnings)
