"""`links`, `fix` and `init`: the commands that only read (or rewrite) the guide."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from linkfresh.collector.guide.parse import parse_guide
from linkfresh.collector.guide.read import GuideError, read_guide_text
from linkfresh.collector.guide.rewrite import rewrite, unified_diff
from linkfresh.commands.options import Json
from linkfresh.config.bundled import BUNDLED_GUIDE_NAME, bundled_feeds, bundled_guide_path
from linkfresh.config.loader import CONFIG_FILENAME
from linkfresh.config.settings import TopicSettings
from linkfresh.config.starter import starter_config
from linkfresh.context import (
    STDIN,
    AppContext,
    default_topics,
    display_name,
    is_bundled,
    load_and_warn,
    warn,
    write_atomically,
)
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.reports.link_listing import (
    group_links,
    render_links_json,
    render_links_text,
    render_links_tsv,
)
from linkfresh.reports.wording import plural

GuidesArgument = Annotated[
    list[Path] | None,
    typer.Argument(
        metavar="GUIDE",
        help="Markdown guide(s). Default: the config's guides, else the bundled guide.",
        show_default=False,
    ),
]


class LinksFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    TSV = "tsv"


def links(
    ctx: typer.Context,
    guides: GuidesArgument = None,
    output_format: Annotated[
        LinksFormat, typer.Option("--format", "-f", metavar="[text|json|tsv]",
                                   help="Output format.")
    ] = LinksFormat.TEXT,
    as_json: Json = False,
) -> None:
    """List every link: unwrapped target, URL as written, text, line and section.

    A GUIDE of `-` is read from standard input.
    """
    app: AppContext = ctx.obj
    if as_json:
        output_format = LinksFormat.JSON
    parsed = load_and_warn(app, guides)
    entries = group_links(link for guide in parsed for link in guide.links)
    renderer = {
        LinksFormat.TEXT: render_links_text,
        LinksFormat.JSON: render_links_json,
        LinksFormat.TSV: render_links_tsv,
    }[output_format]
    sys.stdout.write(renderer(entries))


def fix(
    ctx: typer.Context,
    guides: GuidesArgument = None,
    write: Annotated[
        bool, typer.Option("--write", "-w", help="Rewrite the file(s) in place.")
    ] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if anything would change.")
    ] = False,
    redirects: Annotated[bool, typer.Option(
        "--redirects/--no-redirects",
        help="Also rewrite links the history shows moved permanently (301/308).")] = True,
) -> None:
    """Rewrite wrapper links to their real targets (a unified diff unless --write).

    With a database, links whose last check ended at a permanent redirect are rewritten
    to where they moved, too.
    """
    app: AppContext = ctx.obj
    targets = moved_targets(app) if redirects else {}
    changed = 0
    for path in app.guide_paths(guides):
        if path == STDIN:
            raise Fail("fix rewrites guide files; `-` (standard input) is not one")
        try:
            text, encoding, warnings = read_guide_text(path, app.settings.check.max_guide_bytes)
        except GuideError as error:
            raise Fail(str(error)) from None
        for message in warnings:
            warn(message)
        name = display_name(path)
        parsed = parse_guide(text, name)
        for message in parsed.warnings:  # e.g. a destination whose place cannot be told
            warn(message)
        fixed = rewrite(text, parsed.links, targets)
        if fixed == text:
            print(f"{name}: nothing to fix", file=sys.stderr)
            continue
        changed += 1
        if not write:
            sys.stdout.write(unified_diff(text, fixed, name))
            continue
        if is_bundled(path):
            raise Fail(f"{name} is the bundled guide and is read-only: `linkfresh init "
                       "--copy-guide` writes an editable copy and a linkfresh.toml that uses "
                       "it; then run `linkfresh fix --write` again")
        write_atomically(path, fixed.encode(encoding), "guide")
        print(f"{name}: rewrote wrapper links", file=sys.stderr)
    if check and changed and not write:
        raise typer.Exit(ExitCode.DEAD_LINKS)


def moved_targets(app: AppContext) -> dict[str, str]:
    """Link URL -> where it moved permanently, from the history (none without a database)."""
    from linkfresh.storage.digest_queries import permanent_redirects
    from linkfresh.store import existing  # only `fix` needs the database here

    with existing(app) as engine:
        if engine is None:
            return {}
        issues = permanent_redirects(engine, datetime.now(UTC))
    return {issue.url: issue.redirect_target for issue in issues if issue.redirect_target}


def init(
    ctx: typer.Context,
    guides: GuidesArgument = None,
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE",
                                           help="Where to write.")] = Path(
        CONFIG_FILENAME
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    copy_guide: Annotated[bool, typer.Option(
        "--copy-guide", help=f"Also copy the bundled guide to {BUNDLED_GUIDE_NAME} beside the "
        "config, as an editable guide the config uses (`fix --write` can then rewrite it).")
    ] = False,
) -> None:
    """Write a commented starter linkfresh.toml whose topics come from the guide."""
    app: AppContext = ctx.obj
    if output.exists() and not force:
        raise Fail(f"{output} already exists; use --force to overwrite it")
    if copy_guide and guides:
        raise Fail("--copy-guide copies the bundled guide; give no GUIDE with it")
    if guides and STDIN in guides:
        raise Fail("init reads guide files; `-` (standard input) is not one")
    paths = app.guide_paths(guides)
    copied = None
    if copy_guide:
        paths = [bundled_guide_path()]  # its curated topics and blogs go into the config
        copied = output.resolve().parent / BUNDLED_GUIDE_NAME
        if copied.exists() and not force:
            raise Fail(f"{copied} already exists; use --force to overwrite it")
    topics = [
        TopicSettings(name=t.name, arxiv_query=t.arxiv_query, keywords=list(t.keywords),
                      names=list(t.names), exclude=list(t.exclude), threshold=t.threshold,
                      section=t.section)
        for t in default_topics(app, paths)
    ]
    feeds = bundled_feeds() if all(is_bundled(path) for path in paths) else []
    base = output.resolve().parent
    names = []
    if copied is not None:
        write_atomically(copied, bundled_guide_path().read_bytes())
        copied.chmod(0o644)  # the installed copy may be read-only; this one is the user's
        paths = [copied]
    for path in paths:
        if is_bundled(path):
            continue  # `guides = []` means the bundled guide
        try:
            names.append(str(path.resolve().relative_to(base)))
        except ValueError:
            names.append(str(path.resolve()))
    write_atomically(output, starter_config(names, topics, feeds).encode("utf-8"), "--output")
    if not app.quiet:
        extra = f" and {copied.name}, an editable copy of the bundled guide" if copied else ""
        print(f"wrote {output} ({plural(len(topics), 'topic')}, {plural(len(feeds), 'feed')})"
              f"{extra}", file=sys.stderr)
