"""What every command needs: the settings, the guides to work on, and how to read them."""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkfresh.collector.guide.read import GuideError, read_guide, read_guide_stream
from linkfresh.collector.guide.topic_seeds import derive_topics
from linkfresh.collector.types import Guide, Topic
from linkfresh.config.bundled import BUNDLED_GUIDE_NAME, bundled_guide_path, bundled_topics
from linkfresh.config.ignore_file import IGNORE_FILENAME, parse_ignore_file
from linkfresh.config.loader import ConfigError, load_settings
from linkfresh.config.settings import Settings, TopicSettings
from linkfresh.exitcodes import ExitCode, Fail

STDIN = Path("-")  # a guide argument of `-` reads the guide from standard input
STDIN_NAME = "<stdin>"


@dataclass
class AppContext:
    """Built once per invocation by the CLI callback and handed to each command."""

    config_path: Path | None = None
    verbose: int = 0
    quiet: int = 0
    progress: bool = True
    # `[check]` keys set by command-line flags: they win over the file and LINKFRESH_*.
    check_overrides: dict[str, Any] = field(default_factory=dict)
    extra_exclude: list[str] = field(default_factory=list)  # --exclude, after the config's
    _settings: Settings | None = field(default=None, repr=False)
    _settings_file: Path | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                settings, self._settings_file = load_settings(self.config_path)
            except ConfigError as error:
                raise Fail(f"bad configuration:\n{error}", ExitCode.USAGE) from None
            check = settings.check
            more = [*read_ignore_file(Path.cwd()), *self.extra_exclude]
            if more:
                check = check.model_copy(update={"exclude": [*check.exclude, *more]})
            if self.check_overrides:
                check = check.model_copy(update=self.check_overrides)
            self._settings = settings.model_copy(update={"check": check})
        return self._settings

    def override_check(self, *, exclude: Sequence[str] = (), **values: Any) -> None:
        """Set `[check]` keys from flags (None: not given); `exclude` adds to the patterns."""
        given = {key: value for key, value in values.items() if value is not None}
        if not given and not exclude:
            return
        self.check_overrides.update(given)
        self.extra_exclude.extend(exclude)
        self._settings = None

    @property
    def config_name(self) -> str:
        """Where the settings came from, as error messages name it."""
        _ = self.settings
        return str(self._settings_file) if self._settings_file else "defaults"

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
        paths = self.guide_paths(given)
        if paths.count(STDIN) > 1:
            raise Fail("`-` (the guide on standard input) can be given once", ExitCode.USAGE)
        limit = self.settings.check.max_guide_bytes
        for path in paths:
            try:
                if path == STDIN:
                    guides.append(read_guide_stream(sys.stdin.buffer, limit, STDIN_NAME))
                else:
                    guides.append(read_guide(path, limit, name=guide_name(path)))
            except GuideError as error:
                raise Fail(str(error), ExitCode.USAGE) from None
        return guides

    def guide_names(self, given: list[Path] | None = None) -> list[str]:
        """The names the guides will have once read (`Guide.path`), without reading them."""
        return [guide_name(path) for path in self.guide_paths(given)]

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


def read_ignore_file(folder: Path) -> list[str]:
    """The patterns of `folder/.linkfreshignore` (none when there is no such file)."""
    path = folder / IGNORE_FILENAME
    if not path.is_file():
        return []
    try:
        return parse_ignore_file(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as error:
        raise Fail(f"{path}: cannot read: {error}", ExitCode.USAGE) from None
    except ValueError as error:
        raise Fail(str(error), ExitCode.USAGE) from None


def warn(message: str, app: AppContext | None = None) -> None:
    """A warning on stderr, unless `-q` silenced warnings."""
    if app is None or not app.quiet:
        print(f"linkfresh: warning: {message}", file=sys.stderr)


def load_and_warn(app: AppContext, guides: list[Path] | None) -> list[Guide]:
    """`app.load_guides`, printing each guide's warnings (encoding, front matter)."""
    parsed = app.load_guides(guides)
    warn_about(parsed, app)
    return parsed


def warn_about(guides: Sequence[Guide], app: AppContext) -> None:
    """Print each guide's warnings (encoding, front matter)."""
    for guide in guides:
        for message in guide.warnings:
            warn(message, app)


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


def guide_name(path: Path) -> str:
    """A guide's name as read from `path` (standard input has its own)."""
    return STDIN_NAME if path == STDIN else display_name(path)


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


def write_atomically(path: Path, data: bytes, what: str = "") -> None:
    """Write `data` to `path` via a temp file in the same folder and a rename.

    A crash leaves either the old file or the new one, never a half-written file; the
    file's permission bits are kept, and a new file gets those any new file gets (0644
    under umask 022), not the temp file's 0600.
    A file that cannot be written is a `Fail` naming it (`what` says which file it is):
    exit 6 when the disk is full or failing, else exit 2 (missing folder, permissions).
    """
    from linkfresh.failures import os_failure

    path = path.absolute()
    try:
        _write_atomically(path.resolve(), data)
    except OSError as error:
        raise os_failure(error, f"{what}{' ' if what else ''}{path}: cannot write") from None


def _write_atomically(path: Path, data: bytes) -> None:
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~current_umask()
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process umask, read without changing it (Linux's /proc), else set and restored."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no way to read it without setting it elsewhere
    os.umask(mask)
    return mask


def check_writable(path: Path, what: str) -> None:
    """Fail (exit 2) now, before any work, if `path` cannot be written as a new file."""
    folder = path.absolute().parent
    reason = None
    if path.is_dir():
        reason = "is a directory"
    elif not folder.is_dir():
        reason = f"no such folder {folder}"
    elif not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        reason = "not writable (permission denied or a read-only file system)"
    if reason:
        raise Fail(f"{what} {path}: cannot write: {reason}", ExitCode.USAGE)
