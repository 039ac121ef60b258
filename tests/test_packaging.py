"""`python -m build` makes an sdist and a wheel (built from the sdist) that pass `twine check`;
the wheel installs one import name, `linkfresh`, with the bundled guide inside it, into a
fresh venv where `linkfresh run` works offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.venvs import fresh_venv, offline_pip_env

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder `python -m build` wrote (without isolation: offline, setuptools from the
    test extra), built from a copy so the checkout gets no build/ or egg-info."""
    base = tmp_path_factory.mktemp("dist")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", "node_modules",
        ".pytest_cache", ".hypothesis", ".ruff_cache"))
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir",
                           str(base / "out"), str(source)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return base / "out"


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (built,) = dist.glob("linkfresh-*.whl")
    return built


def test_build_makes_an_sdist_and_a_wheel_that_twine_accepts(dist: Path) -> None:
    names = sorted(path.name for path in dist.iterdir())
    assert names == ["linkfresh-0.1.0-py3-none-any.whl", "linkfresh-0.1.0.tar.gz"]
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict",
                           *(str(path) for path in dist.iterdir())],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


def test_sdist_holds_what_a_rebuild_and_a_reader_need(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in ("pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE",
                   "config/data/llms-learning-guide.md", "collector/web/client.py"):
        assert needed in names, needed


def test_the_wheel_runs_offline_in_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)],
                             env=offline_pip_env(), capture_output=True, text=True,
                             timeout=300, check=False)
    assert install.returncode == 0, install.stderr
    linkfresh = tmp_path / "venv" / "bin" / "linkfresh"
    where = subprocess.run([str(python), "-c", "import linkfresh; print(linkfresh.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(tmp_path / "venv"))  # the installed copy, not the checkout
    work = tmp_path / "work"
    work.mkdir()
    # No network at all: a network namespace of its own (as root, or in a user namespace).
    offline = next((way for way in (["unshare", "-n"], ["unshare", "-rn"])
                    if subprocess.run([*way, "true"], capture_output=True,
                                      check=False).returncode == 0), None)
    assert offline is not None, "needs unshare (util-linux) to run without a network"
    env = {key: value for key, value in os.environ.items() if not key.startswith("LINKFRESH_")}
    done = subprocess.run([*offline, str(linkfresh), "run"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 3, done.stderr  # could not verify: the network is down
    assert "could not verify: network unreachable" in done.stderr
    assert "Traceback" not in done.stderr
    (digest,) = (work / "reports").glob("digest-*.md")
    text = digest.read_text(encoding="utf-8")
    assert "network was down" in text and "linkfresh init --copy-guide" in text


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
