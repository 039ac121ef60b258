"""The guide parser: the bundled guide pinned, every link syntax, sections, topics, opt-outs."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from linkfresh.collector.guide.parse import parse_guide
from linkfresh.collector.guide.read import read_guide
from linkfresh.collector.types import LinkKind, LinkSource
from linkfresh.config.bundled import bundled_guide_path

TITLE = "LLMs Learning Guide"
PHASE1 = "Phase 1: Foundations - Revisiting and Expanding Core Concepts"
PHASE2 = "Phase 2: Diving into Large Language Models"
PHASE3 = "Phase 3: Real-World Applications of LLMs"

# (line, target, unwrap rule, step) for the ten resource links of the bundled guide.
BUNDLED_LINKS = [
    (
        35,
        "https://www.deeplearningbook.org/",
        "google-url",
        PHASE1,
        "1. Review Core Machine Learning and Deep Learning Concepts",
    ),
    (
        36,
        "https://course.fast.ai/",
        "google-url",
        PHASE1,
        "1. Review Core Machine Learning and Deep Learning Concepts",
    ),
    (
        46,
        "https://web.stanford.edu/~jurafsky/slp3/",
        "google-url",
        PHASE1,
        "2. Introduction to Natural Language Processing (NLP)",
    ),
    (
        47,
        "https://huggingface.co/learn/nlp-course/chapter1/1",
        "google-url",
        PHASE1,
        "2. Introduction to Natural Language Processing (NLP)",
    ),
    (
        57,
        "https://arxiv.org/abs/1706.03762",
        "google-url",
        PHASE1,
        "3. Understanding the Transformer Architecture",
    ),
    (
        58,
        "http://jalammar.github.io/illustrated-transformer/",
        "google-url",
        PHASE1,
        "3. Understanding the Transformer Architecture",
    ),
    (75, "https://huggingface.co/models", "google-url", PHASE2, "4. Explore Key LLM Architectures"),
    (
        85,
        "http://ruder.io/nlp-in-2017-part-2/",
        "google-search",
        PHASE2,
        "5. Pre-training and Fine-tuning of LLMs",
    ),
    (
        86,
        "https://huggingface.co/transformers/v4.35.2/training.html",
        "google-search",
        PHASE2,
        "5. Pre-training and Fine-tuning of LLMs",
    ),
    (
        117,
        "https://huggingface.co/transformers/",
        "google-url",
        PHASE3,
        "7. Hands-on Projects and Experimentation",
    ),
]


def test_bundled_guide_has_its_ten_resource_links() -> None:
    guide = read_guide(bundled_guide_path())
    assert guide.title == TITLE
    assert guide.warnings == ()
    found = [
        (link.line, link.target, link.unwrapped_by[0], link.section[1], link.section[2])
        for link in guide.links
    ]
    assert found == BUNDLED_LINKS
    for link in guide.links:
        assert link.section[0] == TITLE
        assert link.text == link.target  # each wrapper unwrapped to the URL shown as its text
        assert link.written_url.startswith("https://www.google.com/")
        assert link.kind is LinkKind.HTTP


def test_bundled_guide_front_matter_is_data_not_links() -> None:
    guide = read_guide(bundled_guide_path())
    assert guide.front_matter["permalink"] == "/books/llms-learning-guide/"
    assert guide.front_matter["sidebar"][0]["text"] == "Data Scientist"
    assert all("placehold.it" not in link.url for link in guide.links)


def test_bundled_guide_steps_topics_and_resources() -> None:
    guide = read_guide(bundled_guide_path())
    assert len(guide.steps) == 10
    assert guide.steps[2] == "3. Understanding the Transformer Architecture"
    transformer = [t.name for t in guide.topics if t.step == guide.steps[2]]
    assert transformer == [
        "Attention mechanism - Self-attention and Multi-head attention",
        "Encoder-Decoder architecture",
        "Positional encoding",
        "Significance of Transformers in sequence modeling and overcoming RNN limitations",
    ]
    bert = next(t for t in guide.topics if t.name.startswith("BERT"))
    assert bert.name == "BERT (Bidirectional Encoder Representations from Transformers)"
    assert bert.description.startswith("Architecture, pre-training tasks")
    unlinked = {(r.kind, r.text.split(" (")[0]) for r in guide.resources if not r.has_link}
    assert ("Video", '"Transformers explained visually" by StatQuest with Josh Starmer') in unlinked
    assert any(
        kind == "Papers" and "BERT paper" in text
        for kind, text in ((r.kind, r.text) for r in guide.resources)
    )


SYNTAX = """\
# Title

Inline [one](https://one.example/a) and ref [two][r2] and auto <https://three.example/>
and bare https://four.example/x and <a href="https://five.example/?a=1&amp;b=2">five</a>.

Code `[no](https://code.example/)` and:

```
[no](https://fenced.example/)
https://fenced-bare.example/
```

    [no](https://indented.example/)

[mail](mailto:a@b.org) [rel](docs/x.md) [anchor](#top) [ftp](ftp://f.example/file)

<div><a href='https://six.example/'>six</a></div>

[r2]: https://two.example/ref "Title"
"""


def test_every_link_syntax_and_none_in_code() -> None:
    guide = parse_guide(SYNTAX, "s.md")
    got = [(link.line, link.target, link.source, link.kind) for link in guide.links]
    assert got == [
        (3, "https://one.example/a", LinkSource.INLINE, LinkKind.HTTP),
        (3, "https://two.example/ref", LinkSource.REFERENCE, LinkKind.HTTP),
        (3, "https://three.example/", LinkSource.AUTOLINK, LinkKind.HTTP),
        (4, "https://four.example/x", LinkSource.BARE, LinkKind.HTTP),
        (4, "https://five.example/?a=1&b=2", LinkSource.HTML, LinkKind.HTTP),
        (15, "mailto:a@b.org", LinkSource.INLINE, LinkKind.MAILTO),
        (15, "docs/x.md", LinkSource.INLINE, LinkKind.RELATIVE),
        (15, "#top", LinkSource.INLINE, LinkKind.ANCHOR),
        (15, "ftp://f.example/file", LinkSource.INLINE, LinkKind.FTP),
        (17, "https://six.example/", LinkSource.HTML, LinkKind.HTTP),
    ]
    assert all(
        "code" not in link.url and "fenced" not in link.url and "indented" not in link.url
        for link in guide.links
    )


def test_spans_point_at_the_written_destination() -> None:
    guide = parse_guide(SYNTAX, "s.md")
    for link in guide.links:
        assert link.span is not None
        assert SYNTAX[link.span[0] : link.span[1]] == link.written_url
    reference = guide.links[1]
    assert reference.written_url == "https://two.example/ref"
    assert SYNTAX.count(reference.written_url) == 1


def test_sections_follow_heading_levels() -> None:
    text = "# A\n\n## B\n\n[x](https://x.example/)\n\n### C\n\n[y](https://y.example/)\n\n## D\n\n[z](https://z.example/)\n"
    sections = [link.section for link in parse_guide(text).links]
    assert sections == [("A", "B"), ("A", "B", "C"), ("A", "D")]


def test_duplicates_are_kept_as_separate_occurrences() -> None:
    text = "[a](https://x.example/)\n\n[b](https://X.example:443/)\n"
    links = parse_guide(text).links
    assert [link.line for link in links] == [1, 3]
    assert links[0].url == links[1].url == "https://x.example/"


def test_opt_out_comments() -> None:
    text = (
        "[a](https://a.example/)\n"
        "<!-- linkfresh-disable-next-line -->\n"
        "[b](https://b.example/)\n"
        "\n<!-- linkfresh-disable -->\n\n[c](https://c.example/)\n\n<!-- linkfresh-enable -->\n\n"
        "[d](https://d.example/)\n"
    )
    disabled = {link.target: link.disabled for link in parse_guide(text).links}
    assert disabled == {
        "https://a.example/": False,
        "https://b.example/": True,
        "https://c.example/": True,
        "https://d.example/": False,
    }


def test_crlf_line_numbers_and_spans() -> None:
    text = "---\r\ntitle: T\r\n---\r\n\r\n# H\r\n\r\n[x](https://www.google.com/url?q=https://x.example/)\r\n"
    guide = parse_guide(text)
    (link,) = guide.links
    assert (guide.title, link.line, link.target) == ("T", 7, "https://x.example/")
    assert text[link.span[0] : link.span[1]] == link.written_url


def test_bad_front_matter_is_a_warning_not_a_failure() -> None:
    guide = parse_guide("---\ntitle: [unclosed\n---\n[x](https://x.example/)\n", "g.md")
    assert guide.front_matter == {}
    assert guide.warnings and "g.md:" in guide.warnings[0]
    assert [link.line for link in guide.links] == [4]


def test_unclosed_brackets_and_html() -> None:
    text = '[[[ (( <a href="https://h.example/\n[ok](https://ok.example/) <div> <b>\n'
    targets = [link.target for link in parse_guide(text).links]
    assert "https://ok.example/" in targets


def test_long_line() -> None:
    url = "https://long.example/" + "a" * 1_000_000
    guide = parse_guide(f"intro [x]({url}) end\n")
    assert [link.target for link in guide.links] == [url]


def test_empty_guide() -> None:
    guide = parse_guide("")
    assert guide.links == () and guide.topics == ()


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("[]()<>!*`#-_\\ \n:/.ahtps&=?\"'")), max_size=200))
def test_extractor_never_raises(text: str) -> None:
    guide = parse_guide(text)
    for link in guide.links:
        if link.span is not None:
            assert text[link.span[0] : link.span[1]] == link.written_url


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_extractor_never_raises_on_any_text(text: str) -> None:
    parse_guide(text)


def test_read_guide_from_disk_keeps_name(tmp_path: Path) -> None:
    path = tmp_path / "g.md"
    path.write_text("[x](https://x.example/)\n", encoding="utf-8")
    guide = read_guide(path, name="named.md")
    assert guide.links[0].guide == "named.md"
