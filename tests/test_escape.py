"""Escaping web text for markdown/HTML: hostile titles stay one literal text run."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from linkfresh.reports.escape import (
    clean_text,
    escape_text,
    link_destination,
    md_code,
    md_link,
    safe_url,
    shorten,
)

HOSTILE = [
    "[x](javascript:alert(1))",
    "![img](https://evil.example/pixel.png)",
    "# heading",
    "## Phase 9: pwned",
    "| pipe | table |",
    "a | b",
    "`code` and ``more``",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "line one\nline two\r\n# not a heading",
    "*bold* _em_ ~~strike~~ **strong**",
    "> quoted",
    "- list item",
    "+ plus item",
    "1. ordered",
    "2) ordered",
    "123456789. long ordered",
    "---",
    "===",
    "    indented code",
    "```fence",
    "~~~fence",
    "[ref]: https://evil.example",
    "[^1]: footnote",
    "<https://evil.example>",
    "https://evil.example/path",
    "www.evil.example",
    "visit evil.com today",
    "mail me@evil.example",
    "trailing backslash \\",
    "hard break  \nnext",
    "&lt;script&gt; &#91;x&#93;(y) &copy;",
    "\x00nul \x07bell \x1b[31mansi\x1b[0m",
    "rtl \u202eevil\u202c text",
    "para\u2028graph\u2029sep",
    "{{ site.secret }} {% include x %}",
    "$x^2$ math and @someone",
    "![](javascript:x)",
    "[x]\n\n[x]: javascript:alert(1)",
    "<!-- comment -->",
    "<div>block html</div>",
    "\\[escaped\\]",
]


def _markdown() -> MarkdownIt:
    # Everything that could turn text into structure is switched on: raw HTML, GFM tables,
    # strikethrough and linkify (fuzzy domains too).
    return MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(
        ["table", "strikethrough", "linkify"]
    )


def _inline_runs(tokens: list[Token]) -> list[list[Token]]:
    return [token.children or [] for token in tokens if token.type == "inline"]


def _assert_one_text_run(source: str, expected: str, block_types: set[str]) -> None:
    tokens = _markdown().parse(source)
    assert {token.type for token in tokens} <= block_types, source
    runs = [run for run in _inline_runs(tokens) if any(expected == c.content for c in run)]
    assert runs, (source, _inline_runs(tokens))
    for run in runs:
        assert [child.type for child in run] == ["text"], (source, run)


PARAGRAPH = {"paragraph_open", "inline", "paragraph_close"}
LIST = PARAGRAPH | {"bullet_list_open", "list_item_open", "list_item_close", "bullet_list_close"}
TABLE = {
    "table_open", "thead_open", "tr_open", "th_open", "inline", "th_close", "tr_close",
    "thead_close", "tbody_open", "td_open", "td_close", "tbody_close", "table_close",
}


def _check_everywhere(text: str) -> None:
    escaped = escape_text(text)
    assert "\n" not in escaped and "\r" not in escaped
    expected = clean_text(text)
    _assert_one_text_run(escaped, expected, PARAGRAPH)
    _assert_one_text_run(f"- {escaped}", expected, LIST)
    _assert_one_text_run(f"- [ ] before {escaped}", f"[ ] before {expected}", LIST)
    table = f"| a | b |\n|---|---|\n| {escaped} | x |\n"
    tokens = _markdown().parse(table)
    assert {token.type for token in tokens} <= TABLE
    assert sum(token.type == "td_open" for token in tokens) == 2, table
    _assert_one_text_run(table, expected, TABLE)


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_render_as_one_literal_text_run(title: str) -> None:
    _check_everywhere(title)


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_produce_no_html_once_rendered(title: str) -> None:
    html = _markdown().render(f"- {escape_text(title)}\n")
    assert html.count("<") == 4  # <ul>, <li>, </li>, </ul>: nothing of the title's own


@given(st.text(max_size=80))
@settings(max_examples=400, deadline=None)
@example("1.\u00a0x")
@example("a\u3002com")
@example("\u00a2.AL")  # linkify takes any non-ASCII symbol for a domain letter
def test_any_text_is_one_text_run(text: str) -> None:
    assume(clean_text(text))
    _check_everywhere(text)


@given(st.text(alphabet="[]()!<>`*_~#|\\-+=.:@ &;/aZ1\n\t", max_size=40))
@example("//1.+")  # a protocol-relative link to linkify, found by this test
@example(";//1.+")
@settings(max_examples=600, deadline=None)
def test_markdown_punctuation_soup_is_one_text_run(text: str) -> None:
    assume(clean_text(text))
    _check_everywhere(text)


def test_hostile_title_as_link_text_makes_exactly_one_link() -> None:
    rendered = md_link("[x](javascript:alert(1)) ![i](http://e/i.png)", "https://ok.example/a")
    links = [
        child
        for run in _inline_runs(_markdown().parse(rendered))
        for child in run
        if child.type == "link_open"
    ]
    assert [link.attrs["href"] for link in links] == ["https://ok.example/a"]


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "file:///etc/passwd",
     "vbscript:x", "//evil.example/x", "/relative", "mailto:a@b.c", "http://", "",
     "https://a.example/\nb", "https://a.example/\tb", "https://[::1/", "https://a\u202e.example/"],
)
def test_only_http_urls_become_links(url: str) -> None:
    assert safe_url(url) is None
    assert "](" not in md_link("text", url)


@pytest.mark.parametrize(
    ("url", "destination"),
    [
        ("https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)"),
        ("https://e.example/a)b", "https://e.example/a%29b"),
        ("https://e.example/a(b", "https://e.example/a%28b"),
        ("https://e.example/<x>", "https://e.example/%3Cx%3E"),
        ("https://e.example/a|b", "https://e.example/a%7Cb"),
        ("https://e.example/é", "https://e.example/%C3%A9"),
        ("https://e.example/a%20b?q=1&r=2#f", "https://e.example/a%20b?q=1&r=2#f"),
        ("https://e.example/a b", "https://e.example/a%20b"),
    ],
)
def test_link_destination(url: str, destination: str) -> None:
    assert link_destination(url) == destination


@given(st.text(max_size=30), st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_links_keep_their_target(text: str, path: str) -> None:
    url = "https://ok.example/" + path
    rendered = md_link(text, url)
    hrefs = [
        child.attrs["href"]
        for run in _inline_runs(_markdown().parse(f"| {rendered} | x |\n|---|---|\n"))
        for child in run
        if child.type == "link_open"
    ]
    if safe_url(url) is None:
        assert hrefs == []
    else:
        assert len(hrefs) == 1 and hrefs[0].startswith("https://ok.example/")


@given(st.text(max_size=60))
@settings(max_examples=400, deadline=None)
@example("see https://evil.example and www.evil.example")
def test_link_label_is_one_text_run_inside_exactly_one_link(text: str) -> None:
    assume(clean_text(text))
    for source in (md_link(text, "https://ok.example/a"),
                   f"- {md_link(text, 'https://ok.example/a')}",
                   f"| {md_link(text, 'https://ok.example/a')} | x |\n|---|---|\n"):
        runs = [run for run in _inline_runs(_markdown().parse(source)) if run]
        assert len(runs) == (2 if source.startswith("|") else 1), source
        assert [child.type for child in runs[0]] == ["link_open", "text", "link_close"], source
        assert runs[0][1].content == clean_text(text)
        assert runs[0][0].attrs["href"] == "https://ok.example/a"


def test_clean_text_and_shorten() -> None:
    assert clean_text(" a\n\tb\u2028c  ") == "a b c"
    assert clean_text("x\u202ey") == "xy"
    assert shorten("abcdef", 4) == "abc…"
    assert shorten("abc", 4) == "abc"
    assert escape_text("a" * 10, limit=5) == "aaaa…"


def test_code_span_fences_backticks() -> None:
    assert md_code("linkfresh fix --write") == "`linkfresh fix --write`"
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x`") == "`` `x` ``"
