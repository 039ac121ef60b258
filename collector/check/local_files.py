"""Local links checked offline: relative paths and `#anchors` against files and headings.
Pure pieces (GitHub's slugger, anchor sets, resolving inside the repository) and one edge
that reads files, `check_local_links`; nothing outside the repository is ever read.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from linkfresh.collector.guide.read import GuideError, read_guide, read_guide_text
from linkfresh.collector.guide.spans import Tag, html_tokens
from linkfresh.collector.types import CheckResult, Link, LinkKind, LinkState

LOCAL_KINDS = frozenset({LinkKind.RELATIVE, LinkKind.ANCHOR})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd", ".mkdn"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
# GitHub prefixes the ids it renders; a link may name either form.
_GITHUB_PREFIX = "user-content-"
# Unicode categories github-slugger keeps: letters, marks, numbers, connector punctuation.
_KEPT_CATEGORIES = ("L", "M", "N", "Pc")
_LINE_ANCHOR = re.compile(r"L\d+(?:C\d+)?(?:-L\d+(?:C\d+)?)?")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading text: lower case, punctuation and symbols dropped
    (except `-` and `_`), each space a `-` (github-slugger)."""
    kept = []
    for char in heading.strip().lower():
        if char == " ":
            kept.append("-")
        elif char == "-" or unicodedata.category(char).startswith(_KEPT_CATEGORIES):
            kept.append(char)
    return "".join(kept)


def anchors(headings: Iterable[str], ids: Iterable[str] = ()) -> frozenset[str]:
    """Every anchor of a document: heading slugs, duplicates suffixed `-1`, `-2`, ... as
    GitHub does, and explicit HTML `id`/`name` anchors."""
    seen: dict[str, int] = {}
    found: set[str] = set(ids)
    for heading in headings:
        base = slug(heading)
        name = base
        while name in seen:
            seen[base] += 1
            name = f"{base}-{seen[base]}"
        seen[name] = 0
        found.add(name)
    return frozenset(found)


def html_anchors(text: str) -> frozenset[str]:
    """The `id`s (and `<a name>`s) of an HTML document."""
    found = set()
    for token in html_tokens(text, 0, len(text)):
        if isinstance(token, Tag) and not token.closing:
            for name in ("id", "name") if token.name == "a" else ("id",):
                value = token.attributes.get(name)
                if value is not None:
                    found.add(html.unescape(text[value.start : value.end]))
    return frozenset(found)


def fragment_found(fragment: str, known: frozenset[str]) -> bool:
    """Whether `#fragment` names one of `known` (percent-decoded, GitHub prefix allowed;
    heading slugs are lower case, so the fragment's case is forgiven)."""
    wanted = unquote(fragment)
    if wanted.startswith(_GITHUB_PREFIX):
        wanted = wanted[len(_GITHUB_PREFIX) :]
    return wanted in known or wanted.lower() in known


def repository_root(folder: Path) -> Path:
    """The git top level holding `folder` (a `.git` entry), else `folder` itself."""
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a local link points: a path inside the repository and a fragment, or why not."""

    path: Path | None
    fragment: str
    skipped: str | None = None


def resolve(target: str, guide_file: Path, root: Path) -> Resolved:
    """Resolve a relative link or `#anchor` written in `guide_file` (pure but for
    symlinks, which are followed so that none leads outside `root` unseen)."""
    path_part, _, fragment = target.partition("#")
    path_part = path_part.partition("?")[0]
    if not path_part:
        return Resolved(guide_file.resolve(), fragment)
    if path_part.startswith("//"):
        return Resolved(None, fragment, "protocol-relative URL: not a local file")
    decoded = unquote(path_part)
    if "\x00" in decoded:
        return Resolved(None, fragment, "not a valid path")
    # As GitHub renders it, `/docs/x.md` is relative to the repository's top.
    base = root if decoded.startswith("/") else guide_file.parent
    resolved = (base / decoded.lstrip("/")).resolve()
    if not resolved.is_relative_to(root):
        return Resolved(None, fragment, f"resolves outside the repository ({root}): not read")
    return Resolved(resolved, fragment)


@dataclass
class _Documents:
    """Anchor sets of the files read so far (each file read once per check)."""

    max_bytes: int
    cache: dict[Path, frozenset[str] | str]

    def anchors_of(self, path: Path) -> frozenset[str] | str:
        """The file's anchors, or why they cannot be known."""
        if path not in self.cache:
            self.cache[path] = self._read(path)
        return self.cache[path]

    def _read(self, path: Path) -> frozenset[str] | str:
        try:
            if path.suffix.lower() in HTML_SUFFIXES:
                text, _, _ = read_guide_text(path, self.max_bytes)
                return html_anchors(text)
            guide = read_guide(path, self.max_bytes)
        except GuideError as error:
            return str(error)
        return anchors(guide.headings, guide.anchor_ids)


def _verdict(
    link: Link, guide_file: Path, root: Path, documents: _Documents
) -> tuple[LinkState, str]:
    """The state of one local place and why."""
    try:
        return _judge(resolve(link.target, guide_file, root), root, documents)
    except (OSError, ValueError) as error:
        return LinkState.BROKEN, f"not a usable path: {error}"


def _judge(where: Resolved, root: Path, documents: _Documents) -> tuple[LinkState, str]:
    if where.skipped is not None or where.path is None:
        return LinkState.SKIPPED, where.skipped or "not a local file"
    shown = where.path.relative_to(root) if where.path != root else Path(".")
    if not where.path.exists():
        return LinkState.BROKEN, f"no such file: {shown}"
    if not where.fragment:
        return LinkState.OK, f"found: {shown}"
    document = where.path
    if document.is_dir():
        readme = next((document / name for name in ("README.md", "readme.md", "index.md")
                       if (document / name).is_file()), None)
        if readme is None:
            return LinkState.OK, f"found: {shown} (a folder; #{where.fragment} not checked)"
        document = readme
    suffix = document.suffix.lower()
    if suffix not in MARKDOWN_SUFFIXES | HTML_SUFFIXES:
        note = "a line anchor" if _LINE_ANCHOR.fullmatch(where.fragment) else "an anchor"
        kind = suffix or "plain"
        return LinkState.OK, f"found: {shown} (#{where.fragment}: {note} in a {kind} file)"
    known = documents.anchors_of(document)
    if isinstance(known, str):  # the file is there; its anchors cannot be known
        return LinkState.UNVERIFIED, f"#{where.fragment} not checked: {known}"
    if fragment_found(where.fragment, known):
        return LinkState.OK, f"found: {shown}#{where.fragment}"
    return LinkState.BROKEN, f"no heading or anchor #{where.fragment} in {shown}"


_RANK = {LinkState.BROKEN: 0, LinkState.UNVERIFIED: 1, LinkState.OK: 2, LinkState.SKIPPED: 3}


def check_local_links(
    links: Sequence[Link],
    guide_files: Mapping[str, Path],
    *,
    now: Callable[[], datetime],
    max_bytes: int,
    exclude: Sequence[re.Pattern[str]] = (),
) -> dict[str, CheckResult]:
    """One result per distinct local link URL (relative paths and `#anchors`).

    `guide_files` maps each guide's name (`Link.guide`) to its file. A URL written in
    several places is broken if it is broken at any of them (when they are in several
    guides, the detail names the guide and line); one whose every place is disabled
    inline, or that is excluded, is skipped.
    """
    documents = _Documents(max_bytes, {})
    roots: dict[Path, Path] = {}
    verdicts: dict[str, tuple[LinkState, str, Link | None]] = {}
    guides: dict[str, set[str]] = {}
    for link in links:
        if link.kind not in LOCAL_KINDS or link.guide not in guide_files:
            continue
        guides.setdefault(link.url, set()).add(link.guide)
        if link.disabled or any(pattern.search(link.url) for pattern in exclude):
            reason = ("disabled inline in the guide" if link.disabled
                      else "excluded by pattern")
            verdicts.setdefault(link.url, (LinkState.SKIPPED, reason, None))
            continue
        guide_file = guide_files[link.guide]
        root = roots.setdefault(guide_file.parent, repository_root(guide_file.parent))
        state, detail = _verdict(link, guide_file.resolve(), root, documents)
        known = verdicts.get(link.url)
        if known is None or _RANK[state] < _RANK[known[0]]:
            verdicts[link.url] = (state, detail, link)
    at = now()
    results = {}
    for url, (state, detail, link) in verdicts.items():
        # Written alike in guides in different folders: say from where it is broken.
        if state is LinkState.BROKEN and link is not None and len(guides[url]) > 1:
            detail = f"{detail} (from {link.guide}:{link.line})"
        results[url] = CheckResult(url, state, at, detail=detail)
    return results
