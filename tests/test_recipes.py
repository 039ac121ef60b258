"""The README's recipes, tried for real as far as this machine allows.

The crontab line runs under cron's bare environment; the systemd units pass
`systemd-analyze verify`; the GitHub workflows parse, and their linkfresh steps run.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.configs import write_config
from tests.servers import LocalServer, Reply, html_page

RECIPES = Path(__file__).resolve().parent.parent / "docs" / "recipes"
LINKFRESH = f"{shlex.quote(sys.executable)} -m linkfresh"


def site(folder: Path, server: LocalServer, *, dead: bool = False) -> None:
    write_config(folder, guides=["guide.md"], database="sqlite:///linkfresh.db", topics=[],
                 feeds=[], check={"connect_timeout": 1, "read_timeout": 2, "retries": 0})
    links = [server.route("/recipe/ok", html_page("Fine"))]
    if dead:
        links.append(server.route("/recipe/dead", Reply(404)))
    body = "\n".join(f"- [link {n}]({url})" for n, url in enumerate(links))
    (folder / "guide.md").write_text(f"# Guide\n\n{body}\n")


def test_crontab_line_runs_in_crons_environment(
    tmp_path: Path, new_server: Callable[[], LocalServer]
) -> None:
    site(tmp_path, new_server())
    line = next(row for row in (RECIPES / "crontab").read_text().splitlines()
                if row.strip() and not row.startswith("#"))
    command = line.split(None, 5)[5]
    command = command.replace("/srv/my-guide", str(tmp_path)).replace("./.venv/bin/linkfresh",
                                                                      LINKFRESH)
    done = subprocess.run(["/bin/sh", "-c", command], env={"PATH": "/usr/bin:/bin",
                          "HOME": str(tmp_path)}, capture_output=True, text=True, check=False)
    assert done.returncode == 0, (tmp_path / "linkfresh.log").read_text()
    assert (tmp_path / "linkfresh.db").exists()
    assert (tmp_path / "linkfresh.log").read_text() == ""  # quiet when all is well


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_units_verify(tmp_path: Path) -> None:
    executable = Path(sys.executable).parent / "linkfresh"
    units = []
    for name in ("linkfresh.service", "linkfresh.timer", "linkfresh-serve.service",
                 "linkfresh-worker@.service"):
        text = (RECIPES / name).read_text()
        text = text.replace("/srv/my-guide/.venv/bin/linkfresh", str(executable))
        text = text.replace("/srv/my-guide", str(tmp_path)).replace("User=linkfresh", "User=root")
        (tmp_path / name).write_text(text)
        units.append(str(tmp_path / name))
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *units],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def _steps(name: str) -> tuple[dict, list[str]]:  # type: ignore[type-arg]
    workflow = yaml.safe_load((RECIPES / name).read_text())
    steps = next(iter(workflow["jobs"].values()))["steps"]
    return workflow, [step["run"] for step in steps if "run" in step]


def test_check_workflow_fails_on_dead_links_with_annotations(
    tmp_path: Path, new_server: Callable[[], LocalServer]
) -> None:
    workflow, runs = _steps("github-check.yml")
    assert "guide.md" in workflow[True]["push"]["paths"]  # YAML reads the `on` key as True
    site(tmp_path, new_server(), dead=True)
    (command,) = [run for run in runs if run.startswith("linkfresh ")]
    done = subprocess.run(["/bin/sh", "-c", command.replace("linkfresh", LINKFRESH, 1)],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "::error file=guide.md,line=4," in done.stdout
    assert not (tmp_path / "linkfresh.db").exists()  # --no-db: nothing to commit in CI


def test_workflows_install_the_published_package() -> None:
    for name in ("github-check.yml", "github-digest.yml"):
        _, runs = _steps(name)
        (install,) = [run for run in runs if run.startswith("pip install")]
        assert shlex.split(install)[2].startswith("linkfresh>="), install  # PyPI, not git


def test_action_workflow_uses_only_inputs_the_action_has() -> None:
    action = yaml.safe_load((RECIPES.parent.parent / "action.yml").read_text())
    workflow = yaml.safe_load((RECIPES / "github-action.yml").read_text())
    steps = next(iter(workflow["jobs"].values()))["steps"]
    (step,) = [step for step in steps if step.get("uses", "").startswith("linkfresh/linkfresh@")]
    assert set(step["with"]) <= set(action["inputs"])


def test_digest_workflow_writes_a_digest_to_commit(
    tmp_path: Path, new_server: Callable[[], LocalServer]
) -> None:
    workflow, runs = _steps("github-digest.yml")
    assert workflow[True]["schedule"][0]["cron"] == "0 8 * * 1"
    site(tmp_path, new_server())
    (command,) = [run for run in runs if run.startswith("linkfresh ")]
    done = subprocess.run(["/bin/sh", "-c", command.replace("linkfresh", LINKFRESH, 1)],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "reports").glob("digest-*.md"))
    assert "git add reports/ linkfresh.db" in runs[-1]
