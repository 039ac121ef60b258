"""What `fix` writes into a guide is a safe CommonMark destination: whatever URL a redirect
hands it, the rewritten link reads back as exactly that URL and nothing else becomes markup."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll

from linkfresh.collector.guide.parse import parse_guide
from linkfresh.collector.guide.rewrite import markdown_destination, rewrite
from tests.cli import run_cli
from tests.configs import write_config
from tests.servers import LocalServer, Reply, html_page

NewServer = Callable[[], LocalServer]
# CommonMark with linkify, as the guide parser reads guides.
COMMONMARK = MarkdownIt("commonmark", {"linkify": True}).enable("linkify")
COMMONMARK.linkify.set({"fuzzy_link": False, "fuzzy_email": False})
EVIL = "/a)%20[click](http://evil.example/)"
# Any character a URL string could hold except surrogates (not text), line endings and NUL,
# which no markdown destination can hold (they come back percent-encoded: see below).
URL_CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\0")
urls = st.builds(lambda tail: "http://example.com/" + tail, st.text(URL_CHARACTERS, max_size=40))


def only_link(markdown: str) -> tuple[str, str]:
    """The one link CommonMark finds in a paragraph: (href, the text after it)."""
    [inline] = [token for token in COMMONMARK.parse(markdown) if token.type == "inline"]
    children = inline.children or []
    opened = [token for token in children if token.type == "link_open"]
    assert len(opened) == 1, markdown
    return str(opened[0].attrs["href"]), children[-1].content


def rewritten(text: str, url: str) -> str:
    """`text`'s one link rewritten to `url`, as `fix --write` does for a permanent redirect."""
    [link] = parse_guide(text, "g.md").links
    return rewrite(text, [link], {link.url: url})


@settings(max_examples=300)
@given(urls)
@example("http://example.com" + EVIL)
@example("http://example.com/a&amp;b\\c<d>e f(g")
@example("http://example.com/x\u0085y\u00a0z")
def test_an_inline_destination_reads_back_as_exactly_the_url(url: str) -> None:
    for source in ("[x](http://old.example/) after\n", "[x](<http://old.example/>) after\n",
                   '[x](http://old.example/ "title") after\n'):
        text = rewritten(source, url)
        href, after = only_link(text)
        assert href == COMMONMARK.normalizeLink(url) and after == " after", text
        [link] = parse_guide(text, "g.md").links
        assert link.span is not None and unescapeAll(link.written_url) == url, text


@settings(max_examples=200)
@given(urls)
@example("http://example.com" + EVIL)
def test_a_reference_definition_reads_back_as_exactly_the_url(url: str) -> None:
    text = rewritten("[x][r] after\n\n[r]: http://old.example/\n", url)
    href, after = only_link(text)
    assert href == COMMONMARK.normalizeLink(url) and after == " after", text


@settings(max_examples=200)
@given(urls)
@example("http://example.com" + EVIL)
def test_autolinks_and_bare_urls_stay_one_link_to_the_url(url: str) -> None:
    for source in ("<http://old.example/> after\n", "see http://old.example/ after\n"):
        text = rewritten(source, url)
        href, after = only_link(text)
        assert after == " after", text
        # Autolinks know no escapes: what they cannot hold is percent-encoded, which is
        # the same URL to every client.
        assert unquote(href) == unquote(url), text


def test_line_endings_are_percent_encoded() -> None:
    assert markdown_destination("http://a.example/x\ny\rz\0") == "<http://a.example/x%0Ay%0Dz%00>"


def test_the_redirect_from_the_issue_is_no_new_link() -> None:
    text = rewritten("- [docs](http://old.example/a) and more\n", "http://host.example" + EVIL)
    assert [link.target for link in parse_guide(text, "g.md").links] == [
        "http://host.example" + EVIL]
    assert "evil.example" not in COMMONMARK.render(text).split('href="', 2)[1].split('"')[0][:24]


def test_fix_write_after_a_redirect_to_markup_keeps_one_link(
    tmp_path: Path, new_server: NewServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = new_server()
    server.route(EVIL, html_page("Moved here"))
    old = server.route("/a", Reply(301, {"Location": EVIL}))
    (tmp_path / "guide.md").write_text(f"# G\n\n- [docs]({old}) and more\n")
    write_config(tmp_path, guides=["guide.md"])
    monkeypatch.chdir(tmp_path)
    assert run_cli(capsys, "check").code == 0
    assert run_cli(capsys, "fix", "--write").code == 0
    links = parse_guide((tmp_path / "guide.md").read_text(), "guide.md").links
    assert [link.target for link in links] == [server.url(EVIL)]
    assert "evil.example" not in {link.url.split("/")[2] for link in links}
