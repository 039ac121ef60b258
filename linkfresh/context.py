"""What every command needs: the settings, the guides to work on, and how to read them."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from linkfresh.collector.guide.read import GuideError, read_guide
from linkfresh.collector.guide.topic_seeds import derive_topics
from linkfresh.collector.types import Guide, Topic
from linkfresh.config.bundled import BUNDLED_GUIDE_NAME, bundled_guide_path, bundled_topics
from linkfresh.config.loader import ConfigError, load_settings
from linkfresh.config.settings import Settings, TopicSettings
from linkfresh.exitcodes import ExitCode, Fail


@dataclass
class AppContext:
    """Built once per invocation by the CLI callback and handed to each command."""

    config_path: Path | None = None
    verbose: int = 0
    _settings: Settings | None = field(default=None, repr=False)
    _settings_file: Path | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings, self._settings_file = load_settings(self.config_path)
            except ConfigError as error:
                raise Fail(f"bad configuration:\n{error}", ExitCode.USAGE) from None
        return self._settings

    @property
    def base_dir(self) -> Path:
        """Relative paths in the config are relative to the config file's folder."""
        _ = self.settings
        return self._settings_file.parent if self._settings_file else Path.cwd()

    def resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def guide_paths(self, given: list[Path] | None = None) -> list[Path]:
        """Guides named on the command line, else in the config, else the bundled guide."""
        if given:
            return list(given)
        if self.settings.guides:
            return [self.resolve(guide) for guide in self.settings.guides]
        return [bundled_guide_path()]

    def load_guides(self, given: list[Path] | None = None) -> list[Guide]:
        """Read and parse every guide; an unreadable one stops the command with exit 2."""
        guides = []
        for path in self.guide_paths(given):
            try:
                guides.append(
                    read_guide(path, self.settings.check.max_guide_bytes, name=display_name(path))
                )
            except GuideError as error:
                raise Fail(str(error), ExitCode.USAGE) from None
        return guides

    def database_url(self) -> str:
        """The database URL, a relative SQLite path made relative to the config file."""
        url = self.settings.database
        prefix = "sqlite:///"
        if (
            url.startswith(prefix)
            and not url.startswith(prefix + "/")
            and url != prefix + ":memory:"
        ):
            return prefix + str(self.resolve(url[len(prefix) :]))
        return url


def warn(message: str) -> None:
    print(f"linkfresh: warning: {message}", file=sys.stderr)


def load_and_warn(app: AppContext, guides: list[Path] | None) -> list[Guide]:
    """`app.load_guides`, printing each guide's warnings (encoding, front matter)."""
    parsed = app.load_guides(guides)
    for guide in parsed:
        for message in guide.warnings:
            warn(message)
    return parsed


def to_topic(topic: TopicSettings) -> Topic:
    """The collector's value for a configured topic."""
    return Topic(topic.name, topic.arxiv_query, tuple(topic.keywords), topic.section,
                 tuple(topic.names), tuple(topic.exclude), topic.threshold)


def default_topics(
    app: AppContext, paths: list[Path] | None = None, parsed: Sequence[Guide] | None = None
) -> list[Topic]:
    """Topics when the config names none: the curated list for the bundled guide, else one
    per step of the guides (from their `**Topics:**` bullets), each name once. `parsed`
    are those guides already read (the digest has them), so they are not parsed again."""
    paths = app.guide_paths(paths)
    if all(is_bundled(path) for path in paths):
        return [to_topic(topic) for topic in bundled_topics()]
    guides = parsed if parsed is not None else app.load_guides(paths)
    derived = [topic for guide in guides for topic in derive_topics(guide)]
    return list({topic.name: topic for topic in derived}.values())


def display_name(path: Path) -> str:
    """How a guide is named in output: the bundled one by its file name, others relative to
    the working directory when they are below it (as CI annotations need), else in full."""
    if path == bundled_guide_path():
        return BUNDLED_GUIDE_NAME
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
    return str(path)


def is_bundled(path: Path) -> bool:
    return path.resolve() == bundled_guide_path().resolve()


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temp file in the same folder and a rename.

    A crash leaves either the old file or the new one, never a half-written file; the
    file's permission bits are kept.
    """
    path = path.resolve()
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        if mode is not None:
            os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
