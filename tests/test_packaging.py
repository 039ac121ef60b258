"""The built wheel installs one import name, `linkfresh`, with the bundled guide inside it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # setuptools builds in the source tree (build/, *.egg-info): build a copy, not the checkout.
    source = tmp_path_factory.mktemp("source") / "linkfresh"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "bench"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    (built,) = out.glob("linkfresh-*.whl")
    return built


def test_wheel_holds_only_the_linkfresh_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    dist_info = {top for top in tops if top.endswith(".dist-info")}
    assert len(dist_info) == 1
    assert tops - dist_info == {"linkfresh"}


def test_wheel_maps_the_repository_folders_into_linkfresh(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in ("linkfresh/cli.py", "linkfresh/stages/cycle.py",
                   "linkfresh/collector/guide/parse.py", "linkfresh/collector/check/checker.py",
                   "linkfresh/collector/news/feeds.py", "linkfresh/collector/web/client.py",
                   "linkfresh/storage/migrations.py", "linkfresh/reports/digest.py",
                   "linkfresh/config/settings.py", "linkfresh/config/data/bundled.toml",
                   "linkfresh/config/data/llms-learning-guide.md"):
        assert module in names
    assert not any(name.startswith("linkfresh/tests/") for name in names)
