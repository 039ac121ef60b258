"""Real file systems that refuse writes, for the tests of full disks and read-only folders.

A read-only folder is a read-only bind mount of itself when the tests run as root (as CI
does: root ignores permission bits), else a folder with mode 0555. A full disk is a small tmpfs,
which needs root to mount; nothing is faked in either case.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed ({done.stderr.strip()}): these tests need "
                    "root, as CI has")


def _mount(folder: Path, options: str) -> None:
    _run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)])


def _unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


@contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """`folder` (created if missing, its files kept) made read-only: nothing in it can be
    created or changed. As root, a read-only bind mount of itself; else mode 0555."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    _run(["mount", "--bind", str(folder), str(folder)])
    try:
        _run(["mount", "-o", "remount,bind,ro", str(folder)])
        yield folder
    finally:
        _unmount(folder)


@contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (say "2m") mounted on `folder`; fill it to make the disk full."""
    folder.mkdir(parents=True, exist_ok=True)
    _mount(folder, f"size={size},mode=0755")
    try:
        yield folder
    finally:
        _unmount(folder)


def fill(folder: Path, name: str = "filler", *, leave: int = 0) -> Path:
    """Write zeros into `folder/name` until the file system is full, then give `leave`
    bytes back (room for a run to start and then run out); returns the file."""
    path = folder / name
    with path.open("ab") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    # Whatever bytes are left (a partial block) go too.
    with path.open("ab", buffering=0) as handle:
        for size in (4096, 512, 1):
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError:
                continue
    if leave:
        os.truncate(path, max(0, path.stat().st_size - leave))
    return path
