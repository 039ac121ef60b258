"""Content drift (pure): a page's fingerprint, the sign of a login or consent wall, and
whether a page still is what it was when its reference was taken.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from urllib.parse import urlsplit

from linkfresh.collector.check.pages import Page
from linkfresh.collector.guide.unwrap import URL_CACHE_SIZE
from linkfresh.collector.types import CheckResult, LinkState

# A body is "shrunk" when its visible text fell to a tenth of the reference's or less, and
# only for references with enough text to say so (a 300-character page can lose half
# its text to a changed footer).
SHRINK_FACTOR = 10
MIN_REFERENCE_TEXT = 1000
# Title and heading words that say nothing about what a page is.
_NOISE = frozenset({
    "a", "an", "and", "the", "of", "for", "to", "in", "on", "at", "by", "with", "from", "or",
    "is", "are", "be", "it", "its", "this", "that", "your", "our", "you", "we", "my", "de",
    "la", "le", "les", "des", "du", "el", "los", "las", "en", "und", "der", "die", "das", "et",
    "y", "i", "home", "homepage", "index", "page", "pages", "welcome", "untitled", "site",
    "website", "official", "web", "online", "www", "com", "org", "net", "io", "edu", "html",
    "htm", "php",
})
_SEPARATORS = re.compile(r"\s+[|·•–—:-]\s+|\s*[|·•]\s*")
_WORD = re.compile(r"\w+", re.UNICODE)
# Titles and headings of sign-in and consent pages, in several languages.
_LOGIN_TITLE = re.compile(
    r"^\W*(?:sign[ -]?in|log[ -]?in|sign on|single sign-on|anmelden|anmeldung|einloggen"
    r"|connexion|se connecter|iniciar sesi[oó]n|acceder|accedi|entrar|inloggen|aanmelden"
    r"|zaloguj(?: się)?|logowanie|войти|вход|登录|登入|ログイン|로그인)\b",
    re.IGNORECASE,
)
_CONSENT_TITLE = re.compile(
    r"before you continue|bevor sie (?:zu google )?weitergehen|avant d'accéder"
    r"|antes de continuar|prima di continuare|cookie consent|consent to cookies"
    r"|we value your privacy|privacy (?:choices|preferences)|your privacy choices",
    re.IGNORECASE,
)
# Path segments of sign-in pages ("/auth" alone is too often a documentation section).
_LOGIN_PATH = re.compile(
    r"/(?:login|log-in|log_in|signin|sign-in|sign_in|logon|servicelogin|sessions?/new"
    r"|oauth2?/authorize)(?:[/?.;]|$)",
    re.IGNORECASE,
)
# A sign-in page's title is short ("Sign in - Accounts"); "Login with OAuth, explained in
# ten steps" is an article.
_LOGIN_TITLE_WORDS = 6
_CONSENT_HOST = re.compile(r"^(?:consent|guce)\.", re.IGNORECASE)
# A page this short with a password field is a sign-in form, not an article with a
# sign-in box in its sidebar.
LOGIN_FORM_TEXT = 2000


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a page was: title, main heading, visible text length, and a wall if it was one."""

    title: str | None
    heading: str | None = None
    text_length: int | None = None
    wall: str | None = None


def wall_sign(requested: str, final: str, page: Page | None) -> str | None:
    """Evidence that the answer is a login or consent wall rather than the page itself."""
    before, after = urlsplit(requested), urlsplit(final)
    if _CONSENT_HOST.match(after.hostname or "") and not _CONSENT_HOST.match(
            before.hostname or ""):
        return f"consent wall: sent to {after.hostname}"
    if _LOGIN_PATH.search(after.path) and not _LOGIN_PATH.search(before.path):
        return f"login wall: sent to {after.path[:80]}"
    if page is None:
        return None
    for label, text in (("title", page.title), ("heading", page.heading)):
        if not text:
            continue
        if _CONSENT_TITLE.search(text):
            return f"consent wall: {label} {text[:80]!r}"
        if _LOGIN_TITLE.search(text) and len(text.split()) <= _LOGIN_TITLE_WORDS:
            return f"login wall: {label} {text[:80]!r}"
    features = page.features
    if features and features.password_field and features.text_length < LOGIN_FORM_TEXT:
        return "login wall: a short page with a password field"
    return None


def drift(
    reference: Fingerprint, now: Fingerprint, link_texts: Iterable[str] = (), url: str = ""
) -> str | None:
    """Why the page no longer is what its reference was, or None when it still is.

    | rule       | changed when                                                       |
    |------------|--------------------------------------------------------------------|
    | wall       | the page is a login/consent wall and the reference was not         |
    | title      | the title shares no word with the reference's nor the guide's link |
    |            | text (site names, the host's name and filler words aside), and the |
    |            | main heading does not still match either                           |
    | shrink     | visible text fell to a tenth of a reference of 1,000+ characters   |
    False alarms are worse than misses: anything unknown counts as unchanged.
    """
    if now.wall and not reference.wall:
        return f"became a {now.wall}"
    texts = list(link_texts)
    noise = _host_words(url)
    if _title_changed(reference.title, now.title, texts, noise) and not _still_matches(
            reference.heading, now.heading, texts, noise):
        return f"title changed: {reference.title!r} → {now.title!r}"
    old, new = reference.text_length, now.text_length
    if old is not None and new is not None and old >= MIN_REFERENCE_TEXT and (
            new * SHRINK_FACTOR <= old):
        return f"page shrank from {old:,} to {new:,} characters of text"
    return None


def with_drift(
    result: CheckResult,
    reference: Fingerprint | None,
    link_texts: Iterable[str] = (),
    *,
    stored: str | None = None,
) -> CheckResult:
    """`result`, made `changed` (with the reason as its detail) when its page drifted from
    `reference`. A result without a page to compare (a 304, a PDF) keeps the `stored`
    reason, if the link counted as changed already; failures are left as they are."""
    if reference is None or result.state not in (LinkState.OK, LinkState.REDIRECTED):
        return result
    if result.title is None and result.text_length is None:
        why = stored
    else:
        now = Fingerprint(result.title, result.heading, result.text_length, result.wall)
        why = drift(reference, now, link_texts, result.url)
    if why is None:
        return result
    detail = why if result.state is LinkState.OK else f"{why}; {result.detail}"
    return replace(result, state=LinkState.CHANGED, detail=detail)


def _title_changed(old: str | None, new: str | None, texts: list[str],
                   noise: frozenset[str]) -> bool:
    if not old or not new or _norm(old) == _norm(new):
        return False
    old_rest, new_rest = _without_common_segments(old, new)
    old_words, new_words = _words(old_rest, noise), _words(new_rest, noise)
    known = old_words | set().union(*(_words(text, noise) for text in texts))
    if not new_words:
        return bool(old_words)  # only the site's name (or filler) is left: a generic page
    return bool(known) and not new_words & known


def _still_matches(old: str | None, new: str | None, texts: list[str],
                   noise: frozenset[str]) -> bool:
    """The main heading still names what the reference's did (or the link text)."""
    if not new:
        return False
    new_words = _words(new, noise)
    known = _words(old or "", noise) | set().union(*(_words(text, noise) for text in texts))
    return bool(new_words & known)


def _without_common_segments(old: str, new: str) -> tuple[str, str]:
    """Titles minus the segments both share ("Course | Stanford" vs "Home | Stanford")."""
    old_parts = [part for part in _SEPARATORS.split(old) if part.strip()]
    new_parts = [part for part in _SEPARATORS.split(new) if part.strip()]
    common = {_norm(part) for part in old_parts} & {_norm(part) for part in new_parts}
    return (" ".join(p for p in old_parts if _norm(p) not in common),
            " ".join(p for p in new_parts if _norm(p) not in common))


def _words(text: str, noise: frozenset[str]) -> set[str]:
    found = set()
    for word in _WORD.findall(unicodedata.normalize("NFKC", text).casefold()):
        if word in _NOISE or word in noise:
            continue
        if len(word) > 3 and word.endswith("s"):
            word = word[:-1]  # "Transformers" and "Transformer" are one word here
        found.add(word)
    return found


@lru_cache(maxsize=URL_CACHE_SIZE)
def _host_words(url: str) -> frozenset[str]:
    """The words of the host name: a page's title that only names its site says nothing."""
    host = urlsplit(url).hostname or ""
    return frozenset(part for part in re.split(r"[.-]", host.lower()) if part)


def _norm(text: str | None) -> str:
    return " ".join((text or "").casefold().split())
