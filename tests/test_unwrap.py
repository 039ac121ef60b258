"""Unwrap rules: one row per wrapper family, nesting, encodings, and properties."""

from __future__ import annotations

from urllib.parse import quote, urldefrag

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkfresh.collector.guide.unwrap import (
    RULES,
    link_kind,
    normalise,
    same_url,
    split_fragment,
    unwrap,
)
from linkfresh.collector.types import LinkKind

INNER = "https://example.org/path/page?a=1&b=two#part"
ENC = quote(INNER, safe="")

# (rule, wrapped URL, expected inner URL)
RULE_CASES = [
    ("google-url", f"https://www.google.com/url?sa=E&source=gmail&q={INNER}", INNER),
    ("google-url", f"https://www.google.com/url?q={ENC}&sa=D&source=docs&ust=1&usg=AOv", INNER),
    ("google-url", f"https://google.co.uk/url?url={ENC}", INNER),
    (
        "google-search",
        "https://www.google.com/search?q=http://ruder.io/nlp-in-2017-part-2/",
        "http://ruder.io/nlp-in-2017-part-2/",
    ),
    (
        "outlook-safelinks",
        f"https://eur01.safelinks.protection.outlook.com/?url={ENC}&data=05%7C01&sdata=x&reserved=0",
        INNER,
    ),
    (
        "teams-safelinks",
        f"https://statics.teams.cdn.office.net/evergreen-assets/safelinks/1/atp-safelinks.html?url={ENC}&locale=en-us",
        INNER,
    ),
    ("facebook", f"https://l.facebook.com/l.php?u={ENC}&h=AT0abc", INNER),
    ("instagram", f"https://l.instagram.com/?u={ENC}&e=ATM", INNER),
    (
        "youtube",
        f"https://www.youtube.com/redirect?event=video_description&redir_token=x&q={ENC}&v=abc",
        INNER,
    ),
    ("linkedin", f"https://www.linkedin.com/safety/go?url={ENC}&trk=flagship-messaging-web", INNER),
    ("slack", f"https://slack-redir.net/link?url={ENC}&v=3", INNER),
    ("reddit", f"https://out.reddit.com/t3_abc?url={ENC}&token=x&app_name=web", INNER),
    ("duckduckgo", f"https://duckduckgo.com/l/?uddg={ENC}&rut=abc", INNER),
    ("vk", f"https://vk.com/away.php?to={ENC}&cc_key=", INNER),
    ("steam", f"https://steamcommunity.com/linkfilter/?url={INNER}", INNER),
]


def test_every_rule_has_a_case() -> None:
    assert {rule.name for rule in RULES} == {name for name, _, _ in RULE_CASES}


@pytest.mark.parametrize(("rule", "wrapped", "inner"), RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_rule_unwraps(rule: str, wrapped: str, inner: str) -> None:
    result = unwrap(wrapped)
    assert result.url == inner
    assert result.rules == (rule,)
    assert result.flags == ()


def test_unencoded_inner_url_keeps_its_own_query() -> None:
    wrapped = "https://www.google.com/url?q=https://x.com/a?b=1&c=2&sa=D&usg=zz"
    assert unwrap(wrapped).url == "https://x.com/a?b=1&c=2"


def test_nested_wrappers_unwrap_recursively() -> None:
    google = f"https://www.google.com/url?q={quote(INNER, safe='')}"
    outlook = f"https://nam02.safelinks.protection.outlook.com/?url={quote(google, safe='')}&data=1"
    facebook = f"https://l.facebook.com/l.php?u={quote(outlook, safe='')}"
    result = unwrap(facebook)
    assert result.url == INNER
    assert result.rules == ("facebook", "outlook-safelinks", "google-url")


def test_double_percent_encoding() -> None:
    twice = quote(quote(INNER, safe=""), safe="")
    assert unwrap(f"https://www.google.com/url?q={twice}").url == INNER


def test_markdown_backslash_escapes_are_dropped() -> None:
    wrapped = r"https://www.google.com/url?q=https://web.stanford.edu/\~jurafsky/slp3/"
    assert unwrap(wrapped).url == "https://web.stanford.edu/~jurafsky/slp3/"
    assert (
        unwrap(r"https://web.stanford.edu/\~jurafsky/").url == "https://web.stanford.edu/~jurafsky/"
    )


def test_link_text_spelling_wins_when_it_is_the_same_url() -> None:
    wrapped = "https://www.google.com/url?q=https%3A%2F%2Fweb.stanford.edu%2F~jurafsky%2Fslp3%2F"
    text = r"https://web.stanford.edu/\~jurafsky/slp3/"
    assert unwrap(wrapped, text).url == "https://web.stanford.edu/~jurafsky/slp3/"
    # A different URL as text does not replace the real target.
    assert (
        unwrap(wrapped, "https://elsewhere.org/").url == "https://web.stanford.edu/~jurafsky/slp3/"
    )


def test_real_search_is_left_alone_and_flagged() -> None:
    search = "https://www.google.com/search?q=StatQuest+Transformers"
    result = unwrap(search)
    assert result.url == search
    assert result.rules == ()
    assert result.flags == ("google-search:not-a-url",)


def test_www_inner_url_gets_a_scheme() -> None:
    assert (
        unwrap("https://www.google.com/url?q=www.example.org/x").url == "https://www.example.org/x"
    )


def test_non_wrappers_are_unchanged() -> None:
    for url in (
        "https://example.org/url?q=https://x.com/",
        "https://www.google.com/maps?q=x",
        "mailto:someone@example.org",
        "ftp://x.org/file",
        "relative/path.md",
        "#anchor",
    ):
        assert unwrap(url).url == url


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://x.org", LinkKind.HTTP),
        ("HTTP://x.org", LinkKind.HTTP),
        ("mailto:a@b.c", LinkKind.MAILTO),
        ("ftp://x.org/f", LinkKind.FTP),
        ("docs/page.md", LinkKind.RELATIVE),
        ("#top", LinkKind.ANCHOR),
        ("javascript:alert(1)", LinkKind.OTHER),
    ],
)
def test_link_kind(url: str, kind: LinkKind) -> None:
    assert link_kind(url) is kind


@pytest.mark.parametrize(
    ("url", "identity"),
    [
        ("HTTPS://Example.ORG:443/a#Frag", "https://example.org/a#Frag"),
        ("http://example.org:80", "http://example.org/"),
        ("http://example.org:8080/x", "http://example.org:8080/x"),
        ("https://bücher.de/straße", "https://xn--bcher-kva.de/straße"),
        ("https://[::1]:8443/", "https://[::1]:8443/"),
        ("https://example.org:99999/", "https://example.org:99999/"),
        ("mailto:A@B.C", "mailto:A@B.C"),
    ],
)
def test_normalise(url: str, identity: str) -> None:
    assert normalise(url) == identity


def test_same_url_ignores_encoding_and_case() -> None:
    assert same_url("https://X.org/a%7Eb", "https://x.org/a~b")
    assert not same_url("https://x.org/a", "https://x.org/b")


@given(st.text())
def test_unwrap_never_raises_and_is_idempotent(text: str) -> None:
    once = unwrap(text)
    assert unwrap(once.url).url == once.url


@given(st.sampled_from([c[1] for c in RULE_CASES if c[2] == INNER]), st.integers(0, 3))
def test_unwrap_is_idempotent_on_wrappers(wrapped: str, depth: int) -> None:
    for _ in range(depth):
        wrapped = f"https://www.google.com/url?q={quote(wrapped, safe='')}"
    once = unwrap(wrapped)
    assert once.url == INNER
    assert unwrap(once.url).url == once.url


@given(st.text())
def test_normalise_never_raises(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)


def test_google_click_through_with_empty_q_takes_url() -> None:
    wrapped = "https://www.google.com/url?sa=t&rct=j&q=&esrc=s&url=http%3A%2F%2Fx.example%2Fa%3Fb%3D1&usg=AO"
    assert unwrap(wrapped).url == "http://x.example/a?b=1"
    assert unwrap(wrapped).rules == ("google-url",)


@pytest.mark.parametrize(
    "text", [None, "https://x.example/FAQ#install", "https://x.example/FAQ%23install", "FAQ"]
)
def test_escapes_in_a_raw_inner_url_stay_as_written_whatever_the_text(text: str | None) -> None:
    wrapped = "https://www.google.com/url?q=https://x.example/FAQ%23install&sa=D"
    assert unwrap(wrapped, text).url == "https://x.example/FAQ%23install"


@given(st.text(alphabet=st.sampled_from("ht:/#?a.%é "), max_size=20))
def test_split_fragment_answers_as_urldefrag(url: str) -> None:
    assert split_fragment(url) == tuple(urldefrag(url))
