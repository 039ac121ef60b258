"""Property tests: the guide's links against an independent CommonMark parser, and `fix`.

Generated guides mix code spans, fences, HTML blocks and inline HTML, comments, reference
definitions inside containers, and wrapper links. markdown-it-py (another CommonMark
implementation, plus the stdlib HTML parser for raw HTML) is the reference extraction.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from linkfresh.collector.guide.parse import parse_guide
from linkfresh.collector.guide.rewrite import rewrite
from linkfresh.collector.guide.unwrap import unwrap
from linkfresh.collector.types import Guide, LinkKind

REFERENCE = MarkdownIt("commonmark", {"linkify": True}).enable("linkify")
REFERENCE.linkify.set({"fuzzy_link": False, "fuzzy_email": False})

WORDS = st.sampled_from(["alpha", "beta", "gamma", "delta", "x", "read", "more"])
TARGETS = st.builds(
    lambda host, path: f"https://{host}/{path}",
    st.sampled_from(["a.example", "b.example.org", "docs.c.example"]),
    st.sampled_from(["", "p", "p/q", "r?s=1", "t?u=2&v=3", "w#frag", "y_(z)"]),
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    """A plain URL or one wrapped by Google, Outlook or Facebook (raw or encoded)."""
    target = draw(TARGETS)
    match draw(st.sampled_from(["plain", "google-raw", "google-enc", "google-empty-q",
                                "outlook", "facebook"])):
        case "plain":
            return target
        case "google-raw":
            return f"https://www.google.com/url?q={target}&sa=D&usg=AO"
        case "google-enc":
            return f"https://www.google.com/url?sa=t&q={quote(target, safe='')}"
        case "google-empty-q":
            return f"https://www.google.com/url?sa=t&q=&url={quote(target, safe='')}&usg=X"
        case "outlook":
            return ("https://eur01.safelinks.protection.outlook.com/?url="
                    f"{quote(target, safe='')}&data=1")
        case _:
            return f"https://l.facebook.com/l.php?u={quote(target, safe='')}&h=AT"


LABELS = st.sampled_from(["one", "Two", "three four", "5"])


@st.composite
def inline(draw: st.DrawFn) -> str:
    word = draw(WORDS)
    match draw(st.sampled_from(["word", "inline", "ref", "auto", "bare", "code", "html",
                                "comment", "angle"])):
        case "word":
            return word
        case "inline":
            return f"[{word}]({draw(urls())})"
        case "angle":
            return f"[{word}](<{draw(urls())}> \"title\")"
        case "ref":
            return f"[{word}][{draw(LABELS)}]"
        case "auto":
            return f"<{draw(urls())}>"
        case "bare":
            return f"see {draw(urls())} ok"
        case "code":
            return f"`[{word}]({draw(urls())})`"
        case "html":
            return f'<a href="{draw(urls()).replace("&", "&amp;")}">{word}</a>'
        case _:
            return f'<!-- <a href="{draw(urls())}">{word}</a> -->'


def paragraph(draw: st.DrawFn) -> str:
    parts = draw(st.lists(inline(), min_size=1, max_size=5))
    joiner = draw(st.sampled_from([" ", "\n"]))
    return joiner.join(parts)


@st.composite
def block(draw: st.DrawFn) -> str:
    match draw(st.sampled_from(["para", "heading", "fence", "html", "quote", "list",
                                "definition", "quoted-definition", "listed-definition",
                                "fenced-definition", "html-comment"])):
        case "para":
            return paragraph(draw)
        case "heading":
            return f"## {draw(WORDS)} {draw(inline())}"
        case "fence":
            return f"```\n[{draw(WORDS)}]({draw(urls())})\n{draw(urls())}\n```"
        case "html":
            return f"<div>\n<a href='{draw(urls())}'>{draw(WORDS)}</a>\n</div>"
        case "quote":
            return "> " + paragraph(draw).replace("\n", "\n> ")
        case "list":
            items = draw(st.lists(st.builds(lambda: None), min_size=1, max_size=3))
            return "\n".join(f"- {paragraph(draw).replace(chr(10), ' ')}" for _ in items)
        case "definition":
            return f"[{draw(LABELS)}]: {draw(urls())}"
        case "quoted-definition":
            return f"> [{draw(LABELS)}]:\n> {draw(urls())}"
        case "listed-definition":
            return f"- {draw(WORDS)}\n\n  [{draw(LABELS)}]: <{draw(urls())}> 'title'"
        case "html-comment":
            return f"<!--\n<a href=\"{draw(urls())}\">{draw(WORDS)}</a>\n-->"
        case _:
            return f"```\n[{draw(LABELS)}]: {draw(urls())}\n```"


GUIDES = st.lists(block(), min_size=1, max_size=8).map(lambda blocks: "\n\n".join(blocks) + "\n")


class _Anchors(HTMLParser):
    """Reference extraction of raw HTML: the stdlib parser's `<a href>` values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def reference_targets(text: str) -> Counter[str]:
    """Unwrapped targets of every http link, as markdown-it-py and HTMLParser see them."""
    found: list[str] = []
    for token in REFERENCE.parse(text):
        tokens = [token, *(token.children or [])]
        html = "".join(t.content for t in tokens if t.type in ("html_block", "html_inline"))
        if html:
            parser = _Anchors()
            parser.feed(html)
            parser.close()
            found += parser.hrefs
        found += [str(t.attrs["href"]) for t in tokens if t.type == "link_open"]
    return Counter(unwrap(href).url for href in found if href.startswith("http"))


def our_targets(guide: Guide) -> Counter[str]:
    return Counter(link.target for link in guide.links if link.kind is LinkKind.HTTP)


def skeleton(text: str, guide: Guide) -> str:
    """The text with every destination cut out: what `fix` must leave alone. A destination's
    own `<...>` count as part of it: `fix` may bracket a URL that is unsafe bare."""
    spans = sorted({_with_brackets(text, link.span) for link in guide.links
                    if link.span is not None})
    pieces, position = [], 0
    for start, end in spans:
        pieces.append(text[position:start])
        position = end
    return "\0".join([*pieces, text[position:]])


def _with_brackets(text: str, span: tuple[int, int]) -> tuple[int, int]:
    start, end = span
    if text[start - 1 : start] == "<" and text[end : end + 1] == ">":
        return start - 1, end + 1
    return span


_HREF = re.compile(r"href=(\"[^\"]*\"|'[^']*')")


def shape(text: str) -> list[tuple[str, str]]:
    """markdown-it-py's token stream with destinations masked."""
    out = []
    for token in REFERENCE.parse(text):
        for t in [token, *(token.children or [])]:
            content = "" if t.type in ("inline", "text") and "://" in t.content else t.content
            out.append((t.type, _HREF.sub("href=*", content)))
    return out


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(GUIDES)
def test_links_agree_with_an_independent_parser_and_fix_changes_only_destinations(
    text: str,
) -> None:
    guide = parse_guide(text, "g.md")
    for link in guide.links:
        assert link.span is not None
        assert text[link.span[0] : link.span[1]] == link.written_url
    assert our_targets(guide) == reference_targets(text)

    fixed = rewrite(text, guide.links)
    again = parse_guide(fixed, "g.md")
    assert skeleton(fixed, again) == skeleton(text, guide)
    assert shape(fixed) == shape(text)
    assert our_targets(again) == our_targets(guide)
    assert not [link for link in again.links if link.is_wrapped]
    assert rewrite(fixed, again.links) == fixed
