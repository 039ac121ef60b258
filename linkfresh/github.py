"""Running under GitHub Actions: the token, the job summary, and repository-relative paths.

Reads the variables the runner sets (`GITHUB_TOKEN`, `GITHUB_STEP_SUMMARY`,
`GITHUB_WORKSPACE`); the decisions are pure functions of them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

TOKEN_VARIABLE = "GITHUB_TOKEN"
SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"
WORKSPACE_VARIABLE = "GITHUB_WORKSPACE"


def github_token(environ: Mapping[str, str] | None = None) -> str | None:
    """The token to send to GitHub's hosts, or None when unset or blank."""
    value = (os.environ if environ is None else environ).get(TOKEN_VARIABLE, "").strip()
    return value or None


def append_step_summary(markdown: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """Append `markdown` to the job summary file when the runner names one; its path, or None."""
    name = (os.environ if environ is None else environ).get(SUMMARY_VARIABLE, "")
    if not name:
        return None
    path = Path(name)
    with path.open("a", encoding="utf-8") as summary:
        summary.write(markdown if markdown.endswith("\n") else markdown + "\n")
    return path


def repository_root(cwd: Path, environ: Mapping[str, str] | None = None) -> Path | None:
    """`$GITHUB_WORKSPACE`, else the git top level of `cwd`, else None."""
    workspace = (os.environ if environ is None else environ).get(WORKSPACE_VARIABLE, "")
    if workspace:
        return Path(workspace)
    try:
        done = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd,
                              capture_output=True, text=True, check=False, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    top = done.stdout.strip()
    return Path(top) if done.returncode == 0 and top else None


def relative_to_root(name: str, cwd: Path, root: Path | None) -> str:
    """A guide's name as typed, made relative to the repository root when it lies below it.

    Names that are not files below the root (the bundled guide, stdin) are kept as they are.
    """
    path = Path(name)
    path = path if path.is_absolute() else cwd / path
    if root is None or not path.is_file():
        return name
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return name


def annotation_paths(names: Iterable[str], cwd: Path, root: Path | None) -> dict[str, str]:
    """Each guide name -> the path GitHub's annotations need (`file=`)."""
    return {name: relative_to_root(name, cwd, root) for name in names}
