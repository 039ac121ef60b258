"""The `linkfresh` command: global options, sub-commands, and turning errors into exit codes.

Sub-command modules are imported when their command is looked up, so `linkfresh check`
does not load what `collect`, `digest` or `run` need (about 0.45 s of start-up), and
`linkfresh --help` lists the commands from their docstrings without importing any of them
(cron starts the command every hour: nothing is imported before it is needed).
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Iterator, MutableMapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info
from typer.models import CommandInfo

from linkfresh import __version__
from linkfresh.exitcodes import Fail

# Command name -> (module in `linkfresh`, function), in the order `--help` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "links": ("commands.guide", "links"),
    "fix": ("commands.guide", "fix"),
    "init": ("commands.guide", "init"),
    "check": ("commands.check", "check"),
    "collect": ("commands.collect", "collect"),
    "digest": ("commands.digest", "digest"),
    "run": ("commands.run", "run"),
    "serve": ("commands.run", "serve"),
    "worker": ("commands.worker", "worker"),
    "status": ("commands.status", "status"),
    "history": ("commands.status", "history"),
    "accept": ("commands.accept", "accept"),
    "unlock": ("commands.status", "unlock"),
}


class _LazyCommands(MutableMapping[str, Any]):
    """The group's command table: a command is built (and its module imported) on first use."""

    def __init__(self, make: Any) -> None:
        self._make = make
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            module, function = COMMANDS[name]
            callback = getattr(importlib.import_module(f"linkfresh.{module}"), function)
            self._built[name] = self._make(CommandInfo(callback=callback))
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(COMMANDS), **self._built})

    def __len__(self) -> int:
        return len({**dict.fromkeys(COMMANDS), **self._built})


def _untyped_arguments(command: Any) -> Any:
    """Help shows an argument by its metavar (`GUIDE`, `URL`), not Typer's `<list[Path]>`."""
    for param in command.params:
        if param.param_type_name == "argument":
            param.display_type_rich = lambda ctx: None
    return command


@cache
def _docstrings(module: str) -> dict[str, str]:
    """The docstring of each top-level function of `linkfresh.<module>`, read from its
    source without importing it (what typer would show, `inspect.getdoc`'s cleaning)."""
    source = Path(__file__).parent.joinpath(*module.split(".")).with_suffix(".py")
    tree = ast.parse(source.read_text(encoding="utf-8"))
    return {node.name: ast.get_docstring(node) or "" for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def _listing_entry(name: str) -> TyperCommand:
    """What the group's help needs of a command not built yet: its name and help text."""
    module, function = COMMANDS[name]
    return TyperCommand(name=name, help=_docstrings(module).get(function) or None)


class _LazyGroup(TyperGroup):
    """Typer's group over `_LazyCommands`; `list_commands` names them without importing,
    and the group's own help describes them without importing them either."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands(lambda info: _untyped_arguments(get_command_from_info(
            info, pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode,
        )))
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        built = self.commands._built  # type: ignore[attr-defined]
        if self._listing and cmd_name in COMMANDS and cmd_name not in built:
            return _listing_entry(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    cls=_LazyGroup,
    name="linkfresh",
    help="Keep a curated markdown learning guide alive: check its links, unwrap redirect "
    "wrappers, collect new papers and posts per topic, and write a weekly digest.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain click help: rich markup would eat `[schedule]` and print `<bool>` after flags.
    rich_markup_mode=None,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"linkfresh {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            metavar="FILE",
            help="Config file (default: ./linkfresh.toml if present).",
            envvar="LINKFRESH_CONFIG",
            show_envvar=False,
        ),
    ] = None,
    verbose: Annotated[int, typer.Option(
        "--verbose", "-v", count=True, show_default=False, help="More output.")] = 0,
    quiet: Annotated[int, typer.Option(
        "--quiet", "-q", count=True, show_default=False,
        help="Less output: no warnings, no progress bar (-qq: no text report either).")] = 0,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    # Imported here, not at the top: `--help` and `--version` need no settings or guides.
    from linkfresh.context import AppContext

    ctx.obj = AppContext(config_path=config, verbose=verbose, quiet=quiet)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    try:
        app(args=argv, prog_name="linkfresh")
    except Fail as failure:
        _exit(failure)
    except KeyboardInterrupt:
        print("linkfresh: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as error:  # never a traceback on the terminal: one line and a code
        from linkfresh.failures import storage_failure, unexpected

        _exit(storage_failure(error) or unexpected(error))


def _exit(failure: Fail) -> None:
    print(f"linkfresh: error: {failure}", file=sys.stderr)
    sys.exit(int(failure.code))
