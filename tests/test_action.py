"""action.yml run the way the GitHub runner runs a composite action: each `run:` step in
bash with the runner's variables and files, inputs substituted into `env:` as `${{ inputs.x }}`,
against local servers; the install step installs this checkout into a fresh venv, offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.configs import write_config
from tests.servers import LocalServer, Reply, html_page
from tests.venvs import fresh_venv, offline_pip_env

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
_COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build",
                                      "dist", "node_modules", ".pytest_cache", ".hypothesis",
                                      ".ruff_cache", "bench", "tests")


@dataclass
class Job:
    """What the runner leaves behind: step outcomes, outputs, the summary, the log."""

    codes: list[int]
    outputs: dict[str, str]
    summary: str
    log: str


def _expand(text: str, context: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        assert expression in context, f"the test runner does not know {expression!r}"
        return context[expression]

    return _EXPRESSION.sub(value, text)


def _outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if "=" in line)


def run_action(with_: Mapping[str, str], *, workspace: Path, action_path: Path, python: Path,
               temp: Path, env: Mapping[str, str]) -> Job:
    inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    inputs["token"] = ""  # ${{ github.token }}: no token in the tests
    assert set(with_) <= set(inputs), set(with_) - set(inputs)
    inputs.update(with_)
    context = {f"inputs.{name}": value for name, value in inputs.items()}
    temp.mkdir(parents=True, exist_ok=True)
    summary = temp / "step_summary.md"
    github_path = temp / "github_path"
    github_path.write_text("")
    # setup-python's part: a Python with pip on PATH (here a fresh venv, offline).
    path = [str(python.parent), "/usr/bin", "/bin"]
    codes, log, outputs = [], [], {}
    for number, step in enumerate(ACTION["runs"]["steps"]):
        if "uses" in step:
            assert step["uses"].startswith("actions/setup-python@")
            continue
        assert "${{" not in step["run"], "inputs must reach scripts through env only"
        output = temp / f"output-{number}"
        step_env = {**env, "PATH": os.pathsep.join(
            [*github_path.read_text().split(), *path]), "HOME": str(temp),
            "GITHUB_ACTION_PATH": str(action_path), "GITHUB_WORKSPACE": str(workspace),
            "RUNNER_TEMP": str(temp), "GITHUB_PATH": str(github_path),
            "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_ENV": str(temp / "github_env"), "CI": "true", "GITHUB_ACTIONS": "true"}
        step_env.update({key: _expand(str(value), context)
                         for key, value in step.get("env", {}).items()})
        cwd = workspace / _expand(step.get("working-directory", "."), context)
        script = temp / f"step-{number}.sh"
        script.write_text(step["run"], encoding="utf-8")
        assert step["shell"] == "bash"
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=cwd, env=step_env, capture_output=True, text=True,
                              timeout=240, check=False)
        codes.append(done.returncode)
        log.append(done.stdout + done.stderr)
        if step.get("id"):
            outputs.update({f"steps.{step['id']}.outputs.{key}": value
                            for key, value in _outputs(output).items()})
        if done.returncode:
            break
    declared = {name: _expand(spec["value"], {**context, **outputs})
                for name, spec in ACTION["outputs"].items()
                if _EXPRESSION.sub("", spec["value"]) == "" and all(
                    m in outputs for m in _EXPRESSION.findall(spec["value"]))}
    return Job(codes, declared, summary.read_text() if summary.exists() else "", "".join(log))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """This checkout as the action's folder, and a fresh venv standing in for setup-python."""
    base = tmp_path_factory.mktemp("action")
    action_path = base / "action"
    shutil.copytree(ROOT, action_path, ignore=_COPY_IGNORE)
    return action_path, fresh_venv(base / "python")


def site(folder: Path, server: LocalServer, *, dead: bool) -> None:
    docs = folder / "docs"
    docs.mkdir(parents=True)
    links = [server.route("/action/ok", html_page("Fine"))]
    if dead:
        links.append(server.route("/action/dead", Reply(404)))
    links.append(server.route("/action/walled", Reply(403)))
    body = "\n".join(f"- [link {n}]({url})" for n, url in enumerate(links))
    (docs / "guide.md").write_text(f"# Guide\n\n{body}\n")
    write_config(docs, fast=True)


def test_action_fails_the_job_on_dead_links_with_annotations_and_a_summary(
    tmp_path: Path, installed: tuple[Path, Path], new_server: Callable[[], LocalServer],
) -> None:
    action_path, python = installed
    site(tmp_path, new_server(), dead=True)
    job = run_action({"guides": "guide.md", "working-directory": "docs",
                      "args": "--exclude '/never matched/'"},
                     workspace=tmp_path, action_path=action_path, python=python,
                     temp=tmp_path / "runner", env=offline_pip_env())
    assert job.codes == [0, 1], job.log
    assert "linkfresh 0.1" in job.log  # the install step ran this checkout
    assert "::error file=docs/guide.md,line=4,title=Broken link::" in job.log
    assert job.outputs == {"exit-code": "1"}
    assert job.summary.startswith("### linkfresh check failed")


def test_action_passes_reports_only_and_respects_its_inputs(
    tmp_path: Path, installed: tuple[Path, Path], new_server: Callable[[], LocalServer],
) -> None:
    action_path, python = installed
    site(tmp_path, new_server(), dead=False)
    args = {"guides": "guide.md", "working-directory": "docs", "fail-on": "broken, unverified",
            "job-summary": "false", "format": "json", "output": "report.json"}
    failing = run_action({**args, "fail": "true"}, workspace=tmp_path, action_path=action_path,
                         python=python, temp=tmp_path / "r1", env=offline_pip_env())
    assert failing.codes == [0, 1] and failing.outputs == {"exit-code": "1"}  # 403 fails now
    assert failing.summary == ""  # job-summary: false
    assert '"schema": "linkfresh.check"' in (tmp_path / "docs" / "report.json").read_text()
    reporting = run_action({**args, "fail": "false"}, workspace=tmp_path,
                           action_path=action_path, python=python, temp=tmp_path / "r2",
                           env=offline_pip_env())
    assert reporting.codes == [0, 0] and reporting.outputs == {"exit-code": "1"}


def test_inputs_are_data_never_code(
    tmp_path: Path, installed: tuple[Path, Path], new_server: Callable[[], LocalServer],
) -> None:
    action_path, python = installed
    site(tmp_path, new_server(), dead=False)
    marker = tmp_path / "pwned"
    job = run_action({"guides": f"guide.md $(touch {marker})", "working-directory": "docs",
                      "fail": "false"}, workspace=tmp_path, action_path=action_path,
                     python=python, temp=tmp_path / "runner", env=offline_pip_env())
    assert not marker.exists()
    assert job.outputs == {"exit-code": "2"} and job.codes == [0, 2]  # no such guide: exit 2
    unbalanced = run_action({"args": "--exclude 'open", "working-directory": "docs"},
                            workspace=tmp_path, action_path=action_path, python=python,
                            temp=tmp_path / "r2", env=offline_pip_env())
    assert unbalanced.codes == [0, 2] and "unbalanced quotes" in unbalanced.log
    assert "Traceback" not in unbalanced.log


