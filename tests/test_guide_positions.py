"""Each place knows the span of its destination from the parser: the issue-12 inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkfresh.collector.guide.parse import parse_guide
from linkfresh.collector.guide.rewrite import rewrite
from linkfresh.collector.types import Guide, LinkSource
from linkfresh.reports.link_listing import group_links, render_links_json
from tests.cli import run_cli

G = "https://www.google.com/url?q=https://real.example/"


def spans_hold(text: str, guide: Guide) -> None:
    """The invariant: every place's span covers exactly its written destination."""
    for link in guide.links:
        assert link.span is not None, link
        assert text[link.span[0] : link.span[1]] == link.written_url


def fixed(text: str) -> str:
    return rewrite(text, parse_guide(text).links)


def test_reference_links_get_their_own_line() -> None:
    text = f"Para line one\nand [ref link][r] on line two\nand [again][r] on three\n\n[r]: {G}r\n"
    guide = parse_guide(text)
    assert [(link.line, link.source) for link in guide.links] == [
        (2, LinkSource.REFERENCE), (3, LinkSource.REFERENCE)]
    spans_hold(text, guide)
    assert fixed(text).endswith("[r]: https://real.example/r\n")


def test_definitions_come_from_the_parser_not_a_text_scan() -> None:
    text = (
        f"Use [r] and [q] and [l].\n[r]: https://lookalike.example/ in a paragraph\n\n"
        f"```\n[r]: https://fenced.example/\n```\n\n> [q]: {G}q\n\n- item\n\n  [l]: {G}l\n\n"
        f"[r]: {G}r\n"
    )
    guide = parse_guide(text)
    targets = [(link.source, link.target) for link in guide.links]
    assert targets[:3] == [(LinkSource.REFERENCE, "https://real.example/r"),
                           (LinkSource.REFERENCE, "https://real.example/q"),
                           (LinkSource.REFERENCE, "https://real.example/l")]
    spans_hold(text, guide)
    after = fixed(text)
    for name in "rql":
        assert f"]: https://real.example/{name}\n" in after
    assert "https://fenced.example/" in after and "https://lookalike.example/" in after
    assert not [link for link in parse_guide(after).links if link.is_wrapped]


def test_the_first_definition_of_a_label_wins_case_insensitively() -> None:
    text = f"[Foo] [ß]\n\n[FOO]: {G}one\n[foo]: https://two.example/\n[SS]: https://ss.example/\n"
    guide = parse_guide(text)
    assert [link.target for link in guide.links] == [
        "https://real.example/one", "https://ss.example/"]
    spans_hold(text, guide)


def test_code_spans_are_never_rewritten_and_the_real_link_beside_them_is() -> None:
    text = (
        f"`[a]({G}code)` [b]({G}b) `{G}c` {G}bare `<a href=\"{G}x\">` "
        f'<a href="{G}y">y</a>\n'
    )
    guide = parse_guide(text)
    assert [(link.source, link.target, link.text) for link in guide.links] == [
        (LinkSource.INLINE, "https://real.example/b", "b"),
        (LinkSource.BARE, "https://real.example/bare", f"{G}bare"),
        (LinkSource.HTML, "https://real.example/y", "y"),
    ]
    after = fixed(text)
    assert after == (
        f"`[a]({G}code)` [b](https://real.example/b) `{G}c` https://real.example/bare "
        f'`<a href="{G}x">` <a href="https://real.example/y">y</a>\n'
    )


def test_unclosed_anchor_ends_at_the_next_and_comments_are_not_links() -> None:
    text = (
        f'<a href="{G}u1">one</sup><br> <a href="{G}u2">two</a>\n'
        f'<!-- <a href="{G}comment">c</a> -->\n\n'
        f'<div>\n<a href="{G}b1">one <!-- <a href="{G}c2">x</a> --> </sup>\n'
        f"<a href='{G}b2'>two</a>\n</div>\n"
    )
    guide = parse_guide(text)
    assert [(link.target, link.text) for link in guide.links] == [
        ("https://real.example/u1", "one"), ("https://real.example/u2", "two"),
        ("https://real.example/b1", "one"), ("https://real.example/b2", "two"),
    ]
    spans_hold(text, guide)
    assert f"{G}comment" in fixed(text) and f"{G}c2" in fixed(text)


def test_autolinks_and_bare_urls_with_encoded_non_ascii_are_fixed() -> None:
    text = (
        "<https://www.google.com/url?q=https%3A%2F%2Fx.example%2F%25C3%25A9> "
        "https://www.google.com/url?q=https://y.example/%C3%A9\n"
    )
    guide = parse_guide(text)
    spans_hold(text, guide)
    assert fixed(text) == "<https://x.example/%C3%A9> https://y.example/%C3%A9\n"


def test_links_in_blockquotes_lists_and_over_line_breaks() -> None:
    text = f"> - a [x](\n>   {G}x \"t\") and\n>   [y]\n>\n>   [y]:\n>   <{G}y>\n"
    guide = parse_guide(text)
    assert [link.target for link in guide.links] == [
        "https://real.example/x", "https://real.example/y"]
    spans_hold(text, guide)


def test_badge_alt_text_stays_out_of_section_paths() -> None:
    text = "# Project ![build](https://img.example/b.svg) [![cov](https://img.example/c.svg)](https://cov.example/)\n\n[x](https://x.example/)\n"
    guide = parse_guide(text)
    assert guide.links[-1].section == ("Project",)
    assert guide.links[0].text == "cov"  # a badge link's text is still its alt text


def test_unwrapped_by_and_flags_are_merged_across_places() -> None:
    text = (
        "[a](https://x.example/)\n\n[b](https://www.google.com/url?q=https://x.example/)\n\n"
        "[c](https://www.google.com/search?q=cats)\n\n[d](https://www.google.com/search?q=cats)\n"
    )
    entries = group_links(parse_guide(text).links)
    assert entries[0].unwrapped_by == ("google-url",)
    assert entries[1].flags == ("google-search:not-a-url",)
    assert '"google-url"' in render_links_json(entries)


def test_multibyte_text_keeps_character_spans() -> None:
    text = f"# Ünïcödé ✓\n\nÉté [x]({G}é) and <{G}ü> 😀 {G}z\n\n[r]: {G}r\n[r] 日本\n"
    guide = parse_guide(text)
    assert len(guide.links) == 4
    spans_hold(text, guide)
    assert not [link for link in parse_guide(fixed(text)).links if link.is_wrapped]


def test_deep_nesting_does_not_recurse_without_bound() -> None:
    text = ">" * 5000 + " [x](https://x.example/)\n" + "*" * 3000 + "a" + "*" * 3000 + "\n"
    parse_guide(text)


def test_fix_check_fails_on_a_wrapped_definition_in_a_blockquote_and_write_fixes_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "g.md"
    before = (f"# G\r\n\r\nSee [docs].\r\n[docs]: https://lookalike.example/\r\n\r\n"
              f"> [docs]: {G}d\r\n")
    path.write_bytes(before.encode())
    assert run_cli(capsys, "fix", str(path), "--check").code == 1
    assert run_cli(capsys, "fix", str(path), "--write").code == 0
    assert path.read_bytes() == before.replace(f"{G}d", "https://real.example/d").encode()
    assert run_cli(capsys, "fix", str(path), "--check").code == 0


def test_a_resource_line_with_a_bare_url_or_anchor_has_a_link() -> None:
    text = (
        "1. **Step one:**\n\n   - **Resources:**\n"
        "     - **Book:** Plain named book\n"
        "     - **Paper:** Named with https://paper.example/x\n"
        '     - **Video:** Named with <a href="https://video.example/">v</a>\n'
    )
    found = {resource.kind: resource.has_link for resource in parse_guide(text).resources}
    assert found == {"Book": False, "Paper": True, "Video": True}


def test_lone_surrogates_and_nul_never_crash() -> None:
    guide = parse_guide("a \ud800 [x](https://x.example/) \x00 b\n")
    assert [link.target for link in guide.links] == ["https://x.example/"]
