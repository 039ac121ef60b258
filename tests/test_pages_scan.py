"""The streaming HTML inspector: the text BeautifulSoup's get_text gave, encodings, and the
early stop when no fragment needs the page's anchors."""

from __future__ import annotations

from linkfresh.collector.check.pages import Page, decode_html, fragment_present, inspect_html


def test_text_skips_comments_scripts_and_styles_and_joins_pieces() -> None:
    page = inspect_html(b"<title>A<!--c-->B<script>x</script> C &amp; D</title>"
                        b"<h1>X<b>Y</b> <style>z</style>Z</h1><p id=a id=b name=n>")
    assert (page.title, page.heading) == ("A B C & D", "X Y Z")
    assert page.anchors == frozenset({"a", "b"})  # `name` counts on a, map, iframe, img, form


def test_first_title_and_h1_win_and_unclosed_ones_end_with_the_page() -> None:
    page = inspect_html(b"<title>One</title><title>Two</title><h1>Main</h1><h1>Other</h1>")
    assert (page.title, page.heading) == ("One", "Main")
    assert inspect_html(b"<h1>Not found").heading == "Not found"


def test_without_anchors_the_scan_stops_and_anchors_are_unknown() -> None:
    page = inspect_html(b"<title>T</title><h1>H</h1><p id=late>", anchors=False)
    assert page == Page("T", "H", None)
    assert fragment_present("late", page) is None  # unknown is never "absent"


def test_encodings_http_charset_then_meta_then_utf8_then_windows_1252() -> None:
    assert decode_html("café".encode("latin-1"), "iso-8859-1") == "café"
    assert "café" in decode_html('<meta charset="latin-1">café'.encode("latin-1"))
    assert decode_html("café".encode()) == "café"
    assert decode_html(b"caf\xe9 au lait") == "café au lait"
    assert decode_html("caf€".encode()[:-1]) == "caf\ufffd"  # a cut character, not cp1252
    assert decode_html("café".encode(), "no-such-codec") == "café"
