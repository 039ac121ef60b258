"""The `linkfresh` command: global options, sub-commands, and turning errors into exit codes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from linkfresh import __version__, cmd_check, cmd_collect, cmd_db, cmd_digest, cmd_guide, cmd_run
from linkfresh.context import AppContext
from linkfresh.exitcodes import Fail

app = typer.Typer(
    name="linkfresh",
    help="Keep a curated markdown learning guide alive: check its links, unwrap redirect "
    "wrappers, collect new papers and posts per topic, and write a weekly digest.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
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
            help="Config file (default: ./linkfresh.toml if present).",
            envvar="LINKFRESH_CONFIG",
            show_envvar=False,
        ),
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More output.")] = 0,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    ctx.obj = AppContext(config_path=config, verbose=verbose)


app.command()(cmd_guide.links)
app.command()(cmd_guide.fix)
app.command()(cmd_guide.init)
app.command()(cmd_check.check)
app.command()(cmd_collect.collect)
app.command()(cmd_digest.digest)
app.command()(cmd_run.run)
app.command()(cmd_run.serve)
app.command()(cmd_db.status)
app.command()(cmd_db.history)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    try:
        app(args=argv, prog_name="linkfresh")
    except Fail as failure:
        print(f"linkfresh: error: {failure}", file=sys.stderr)
        sys.exit(int(failure.code))
    except KeyboardInterrupt:
        print("linkfresh: interrupted", file=sys.stderr)
        sys.exit(130)
