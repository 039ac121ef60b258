"""Parked domains: markers (pure), and the verdict against real loopback hosts, where a real
site that answers unknown paths with its home page must stay ok."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkfresh.collector.check.checker import check_urls
from linkfresh.collector.check.pages import inspect_html, page_features
from linkfresh.collector.check.parking import parking_markers
from linkfresh.collector.types import CheckResult, LinkState
from linkfresh.collector.web.client import build_client
from linkfresh.config.settings import CheckSettings
from tests.cli import run_cli
from tests.configs import write_config
from tests.schemas import valid_document
from tests.servers import LocalServer, Reply, Request, html_page

FAST = CheckSettings(allow_private=True, connect_timeout=0.5, read_timeout=0.5, link_deadline=5,
                     retries=1, backoff=0.01, dns_retry_pause=0.01)
NewServer = Callable[[], LocalServer]
HTML = {"Content-Type": "text/html; charset=utf-8"}


def check(urls: list[str], **options: Any) -> list[CheckResult]:
    async def go() -> list[CheckResult]:
        async with build_client(FAST, default_user_agent="linkfresh/test") as client:
            return await check_urls(urls, client, FAST, **options)

    return asyncio.run(go())


def lander(domain: str) -> Callable[[Request], Reply]:
    """A parking lander in the shape of the real ones: the domain as title, a for-sale line,
    AdSense for Domains, and "related searches" that change on every request."""
    served = itertools.count()

    def reply(_: Request) -> Reply:
        n = next(served)
        ads = "".join(f'<li><a href="/search?q=topic{n}-{i}">Topic {n}-{i}</a></li>'
                      for i in range(n % 3 + 3))
        body = (f"<!doctype html><html><head><title>{domain}</title>"
                '<script src="https://www.google.com/adsense/domains/caf.js"></script></head>'
                f"<body><h1>{domain}</h1><p>This domain may be for sale!</p>"
                f"<h2>Related searches</h2><ul>{ads}</ul></body></html>")
        return Reply(200, HTML, body)

    return reply


def probes(server: LocalServer) -> int:
    return sum(1 for request in server.requests if request.path.startswith("/linkfresh-probe-"))


def test_every_link_to_a_parked_host_is_parked_with_one_probe(new_server: NewServer) -> None:
    host = new_server()
    host.route("*", lander("old-blog.example"))
    urls = [host.url(f"/2019/post-{n}.html") for n in range(6)] + [host.url("/")]
    results = check(urls)
    assert [result.state for result in results] == [LinkState.PARKED] * len(urls)
    detail = results[0].detail or ""
    assert detail.startswith("parked domain:") and "AdSense for Domains" in detail
    assert "a random path on the host shows the same page" in detail
    assert probes(host) == 1  # one extra request for the whole host, not one per link
    assert LinkState.PARKED.is_failure


def test_a_host_sending_every_path_to_a_lander_is_parked(new_server: NewServer) -> None:
    host = new_server()
    host.route("*", Reply(302, {"Location": "/lander"}))
    host.route("/lander", html_page("Buy this domain", "<p>Make an offer on this domain.</p>"))
    [result] = check([host.url("/docs/intro")])
    assert result.state is LinkState.PARKED
    assert "redirected to a parking lander" in (result.detail or "")


def test_a_real_site_whose_unknown_paths_show_its_home_page_stays_ok(
        new_server: NewServer) -> None:
    site = new_server()
    # The home page (answered for every unknown path) and the article both talk about
    # parked domains: the article is still a page of its own.
    site.route("*", html_page("Domain Weekly", "<h1>Domain Weekly</h1><p>News about parked "
                              "domains. Is this domain for sale? We explain.</p>"))
    article = site.route("/2024/parked-domains", html_page(
        "What a parked domain is", "<h1>What a parked domain is</h1><p>A domain is parked "
        "when ... buy this domain, the lander says.</p>" + "<p>More text.</p>" * 50))
    plain = site.route("/about", html_page("About us", "<h1>About us</h1><p>We write.</p>"))
    results = check([article, plain])
    assert [result.state for result in results] == [LinkState.OK, LinkState.OK]
    assert probes(site) == 1  # only the page with markers was worth comparing


def test_a_catch_all_app_without_parking_markers_is_ok_and_not_probed(
        new_server: NewServer) -> None:
    app = new_server()
    app.route("*", html_page("My notes", '<div id="root"></div><script src="/app.js"></script>'))
    results = check([app.url("/notes/attention"), app.url("/notes/rlhf")])
    assert {result.state for result in results} == {LinkState.OK}
    assert probes(app) == 0


def test_markers_alone_are_not_enough_when_unknown_paths_are_404(new_server: NewServer) -> None:
    shop = new_server()
    page = shop.route("/sale", html_page("This domain is for sale", "<p>buy this domain</p>"))
    [result] = check([page])
    assert result.state is LinkState.OK
    assert probes(shop) == 1


def test_check_fails_on_a_parked_link_and_names_the_state(
        new_server: NewServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    host = new_server()
    host.route("*", lander("gone.example"))
    write_config(tmp_path, database="sqlite:///state.db")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "guide.md").write_text(f"# G\n\n- [post]({host.url('/post')})\n")
    outcome = run_cli(capsys, "check", "guide.md", "--no-db", "--format", "json")
    assert outcome.code == 1
    document = valid_document(outcome.out, "check")
    assert document["summary"]["parked"] == 1
    assert document["results"][0]["state"] == "parked"


@pytest.mark.parametrize(("title", "text", "expected"), [
    ("example.com", "This domain is for sale.", "page says"),
    ("Diese Domain steht zum Verkauf", "", "title says"),
    ("exemple.fr", "Ce nom de domaine est à vendre", "page says"),
    ("ejemplo.es", "Este dominio está en venta", "page says"),
    ("esempio.it", "Questo dominio è in vendita", "page says"),
    ("voorbeeld.nl", "Deze domeinnaam is te koop", "page says"),
    ("przyklad.pl", "Ta domena jest na sprzedaż", "page says"),
    ("пример.рф", "Этот домен продается", "page says"),
    ("例子.cn", "该域名正在出售", "page says"),
    ("例.jp", "このドメインは販売中です", "page says"),
    ("example.net", "This Web page is parked FREE, courtesy of a registrar", "page says"),
])
def test_parking_phrases_in_several_languages(title: str, text: str, expected: str) -> None:
    body = f"<html><head><title>{title}</title></head><body><p>{text}</p></body></html>"
    page = inspect_html(body.encode(), anchors=False, features=True)
    markers = parking_markers("http://a.example/x", "http://a.example/x", page)
    assert markers and markers[0].startswith(expected)


@pytest.mark.parametrize("text", [
    "Domains for sale are a market of their own.",
    "We parked the car and read the documentation.",
    "Buy domains and hosting from us.",
])
def test_ordinary_text_is_no_marker(text: str) -> None:
    body = f"<html><head><title>Article</title></head><body><p>{text}</p></body></html>"
    page = inspect_html(body.encode(), anchors=False, features=True)
    assert parking_markers("http://a.example/x", "http://a.example/x", page) == ()


def test_parking_services_own_sites_show_no_markers() -> None:
    page = inspect_html(b"<title>Buy this domain</title>", anchors=False, features=True)
    assert parking_markers("https://dan.com/buy-domain/x.com", "https://dan.com/b", page) == ()
    assert parking_markers("https://a.example/", "https://sedo.com/search/details?d=a",
                           page)[0].startswith("redirected to Sedo")


def test_script_and_meta_redirects_to_a_lander_are_markers() -> None:
    page = inspect_html(b"<title>a</title><script>window.location.href = '/lander'</script>",
                        anchors=False, features=True)
    assert parking_markers("http://a.example/", "http://a.example/", page) == (
        "its script sends visitors to /lander",)
    assert page.features is not None and page.features.text_length == 1


def test_page_features_read_text_resources_and_forms() -> None:
    page = inspect_html(
        b'<title>T</title><style>p{}</style><script src="/a.js"></script><script>var x=1;'
        b'</script><iframe src="https://ads.example/f"></iframe><p>Hello &amp;  world</p>'
        b"<form><input name=u><input type='password'></form>"
        b'<meta http-equiv="refresh" content="0; url=https://b.example/">',
        anchors=False, features=True)
    features = page.features
    assert features is not None
    assert features.text_head == "T Hello & world" and features.text_length == 15
    assert features.resources == ("/a.js", "https://ads.example/f")
    assert features.password_field and features.redirect == "https://b.example/"


@given(st.text(alphabet=st.sampled_from(list("<>/=\"' abcsriptylmetafon-&;")), max_size=400))
def test_page_features_never_fail_on_any_markup(text: str) -> None:
    features = page_features(text)
    assert 0 <= features.text_length <= len(text) + len(text) // 2
    assert len(features.resources) <= 64


@given(st.binary(max_size=2000))
def test_inspect_html_with_features_takes_any_bytes(body: bytes) -> None:
    page = inspect_html(body, anchors=False, features=True)
    assert page.features is not None and page.features.text_length >= 0


@given(st.text(max_size=300), st.text(max_size=300))
def test_markers_take_any_title_and_text(title: str, text: str) -> None:
    from html import escape

    body = f"<title>{escape(title)}</title><p>{escape(text)}</p>".encode()
    page = inspect_html(body, anchors=False, features=True)
    for marker in parking_markers("http://a.example/x", "http://a.example/x", page):
        assert marker.startswith(("title says", "heading says", "page says"))
