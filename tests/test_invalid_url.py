"""`invalid_url` tells a plainly written URL by a pattern and asks the parsers about the rest.

The pattern only ever says "valid" where both parsers (the standard library's and httpx's)
would have: fuzzed here with URLs built from the pieces that make parsers disagree.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from linkfresh.collector.check.fetch import invalid_url, parse_problem

SCHEMES = st.sampled_from(["http://", "https://", "HTTPS://", "ftp://", "http:/", ""])
HOST_PIECES = st.sampled_from(["a", "Z", "0", "9", "255", "256", "0177", ".", "-", "xn--", "XN--",
                               "\N{GRINNING FACE}", "\N{KELVIN SIGN}", "é", "[", "]", "::1", "@",
                               "_", "%41", " ", "\t"])
TAILS = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=12)


@st.composite
def urls(draw: st.DrawFn) -> str:
    host = "".join(draw(st.lists(HOST_PIECES, min_size=0, max_size=8)))
    port = draw(st.one_of(st.just(""), st.from_regex(r":[0-9]{0,6}", fullmatch=True),
                          st.just(":x")))
    tail = draw(st.one_of(st.just(""), st.sampled_from(["/", "?", "#"]).map(
        lambda start: start + draw(TAILS))))
    return draw(SCHEMES) + host + port + tail


# Nearly plain URLs: the pattern's edge, where one character decides.
NEARLY_PLAIN = st.from_regex(
    r"https?://[a-z0-9.\-]{0,12}(\.[0-9]{1,3}){0,4}(:[0-9]{1,6})?([/?#][ -~\x00é]{0,10})?",
    fullmatch=True)


@settings(max_examples=600, deadline=None)
@given(st.one_of(urls(), NEARLY_PLAIN))
@example("http://127.0.0.1:18080/page?q=1#top")
@example("http://256.1.1.1/")
@example("http://1.2.3.4./")
@example("http://a.com:65536/")
@example("http://xn--zz.example/")
@example("http://\N{KELVIN SIGN}.example/")
def test_the_pattern_never_disagrees_with_the_parsers(url: str) -> None:
    assert invalid_url(url) == parse_problem(url)


@pytest.mark.parametrize("url", ["http://example.com", "https://a-b.example.org./x?y=1#z",
                                 "http://127.0.0.10:18080/p/1", "HTTPS://EXAMPLE.COM/"])
def test_plain_urls_are_valid(url: str) -> None:
    assert invalid_url(url) is None


@pytest.mark.parametrize("url", ["http://256.1.1.1/", "http://0177.0.0.1/", "http://a.com:70000/",
                                 "http://a.com:80:80/", "http://[zz/x", "http://xn--a.example/"])
def test_what_the_parsers_refuse_is_named(url: str) -> None:
    problem = invalid_url(url)
    assert problem is not None and problem.startswith("invalid URL: ")
