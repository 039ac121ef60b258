"""`linkfresh --help` and `--version` import nothing they do not need (issue 15); the
timing itself is measured in bench/startup_bench.py, not here."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from typer.main import get_command_from_info
from typer.models import CommandInfo

from linkfresh import cli
from tests.cli import run_cli

# What a command needs and the bare `--help`/`--version` do not.
NOT_NEEDED = ("linkfresh.context", "linkfresh.commands", "linkfresh.stages", "linkfresh.storage",
              "linkfresh.config", "linkfresh.collector", "sqlalchemy", "pydantic", "httpx",
              "apscheduler")

PROBE = """
import sys
from linkfresh.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("LOADED", ",".join(sorted(name for name in NOT_NEEDED if any(
    loaded == name or loaded.startswith(name + ".") for loaded in sys.modules))))
"""


@pytest.mark.parametrize("option", ["--help", "--version", "-h"])
def test_help_and_version_import_no_command(option: str) -> None:
    code = f"NOT_NEEDED = {NOT_NEEDED!r}\n{PROBE}"
    done = subprocess.run([sys.executable, "-c", code, option], capture_output=True,
                          text=True, timeout=60, check=False)
    loaded = next(line for line in done.stdout.splitlines() if line.startswith("LOADED"))
    assert loaded == "LOADED ", done.stdout + done.stderr


def test_help_lists_every_command_as_the_built_commands_would(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = run_cli(capsys, "--help")
    assert listed.code == 0

    def built(name: str) -> object:
        module, function = cli.COMMANDS[name]
        callback = getattr(importlib.import_module(f"linkfresh.{module}"), function)
        return get_command_from_info(CommandInfo(callback=callback), pretty_exceptions_short=True,
                                     rich_markup_mode=cli.app.rich_markup_mode)

    monkeypatch.setattr(cli, "_listing_entry", built)
    imported = run_cli(capsys, "--help")
    assert listed.out == imported.out
    for name in cli.COMMANDS:
        assert f" {name} " in listed.out


def test_a_command_still_gets_its_context(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = run_cli(capsys, "links", "--help")
    assert outcome.code == 0 and "--format" in outcome.out
