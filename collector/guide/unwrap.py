"""Redirect-wrapper unwrapping and URL normalisation (pure functions).

Wrappers are a table of named rules (host, path, the query parameter that holds the real
URL). `unwrap` applies them until nothing changes and says which rules fired.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import SplitResult, unquote, urldefrag, urlsplit, urlunsplit

import idna

from linkfresh.collector.types import LinkKind


@dataclass(frozen=True, slots=True)
class UnwrapRule:
    """A redirector: the inner URL sits in one of `params` of a matching host and path."""

    name: str
    host: re.Pattern[str]
    path: re.Pattern[str]
    params: tuple[str, ...]
    # The wrapper's own parameters: an unencoded inner URL ends where one of them starts.
    own_params: frozenset[str] = frozenset()
    # Some redirectors (Google search) are also real pages: only unwrap when the value is a URL.
    only_if_url: bool = False


def _rule(
    name: str,
    host: str,
    path: str,
    params: tuple[str, ...],
    own: str = "",
    *,
    only_if_url: bool = False,
) -> UnwrapRule:
    return UnwrapRule(
        name,
        re.compile(host, re.IGNORECASE),
        re.compile(path),
        params,
        frozenset(own.split()),
        only_if_url=only_if_url,
    )


_GOOGLE = r"(?:www\.)?google\.(?:com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})"
_GOOGLE_OWN = "sa source ust usg ved ei rct esrc cd cad uact opi hl gl client oq aqs sourceid ie"

RULES: tuple[UnwrapRule, ...] = (
    _rule("google-url", _GOOGLE, r"/url/?", ("q", "url"), _GOOGLE_OWN),
    _rule("google-search", _GOOGLE, r"/search/?", ("q",), _GOOGLE_OWN, only_if_url=True),
    _rule(
        "outlook-safelinks",
        r"(?:[a-z0-9-]+\.)*safelinks\.protection\.outlook\.com",
        r"/.*",
        ("url",),
        "data sdata reserved",
    ),
    _rule(
        "teams-safelinks",
        r"statics\.teams\.cdn\.office\.net",
        r"/evergreen-assets/safelinks/.*",
        ("url",),
        "locale dest pc",
    ),
    _rule("facebook", r"(?:l|lm|m|www)\.facebook\.com", r"/l\.php", ("u",), "h s e"),
    _rule("instagram", r"l\.instagram\.com", r"/", ("u",), "e"),
    _rule("youtube", r"(?:www\.|m\.)?youtube\.com", r"/redirect", ("q",), "event redir_token v"),
    _rule("linkedin", r"(?:www\.)?linkedin\.com", r"/safety/go/?", ("url",), "trk trkInfo"),
    _rule("slack", r"slack-redir\.net", r"/link", ("url",), "v"),
    _rule("reddit", r"out\.reddit\.com", r"/.*", ("url",), "token app_name"),
    _rule("duckduckgo", r"(?:www\.)?duckduckgo\.com", r"/l/?", ("uddg",), "rut"),
    _rule("vk", r"(?:m\.)?vk\.com", r"/away\.php", ("to",), "cc_key"),
    _rule("steam", r"steamcommunity\.com", r"/linkfilter/?", ("url", "u"), ""),
)

# Any wrapper's host: most links match none, and are done with after one regex.
_ANY_WRAPPER_HOST = re.compile("|".join(f"(?:{rule.host.pattern})" for rule in RULES),
                               re.IGNORECASE)

# The host of an absolute URL, read without a full parse (most links wrap nothing).
_HOST_PART = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)")
# Already in normal form: lower-case http(s) host without port, a path, no empty `?`/`#`.
_NORMAL = re.compile(r"https?://[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?/[^\s?#]*(?:\?[^\s#]+)?(?:#\S+)?")

# A markdown backslash escape of an ASCII punctuation character (CommonMark §2.4).
_MD_ESCAPE = re.compile(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
_MAX_ROUNDS = 10


@dataclass(frozen=True, slots=True)
class Unwrapped:
    """The result of unwrapping: the inner URL, the rules that fired and any flags."""

    url: str
    rules: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    # The inner URL was percent-decoded out of its parameter (not written there raw).
    decoded: bool = False


def unescape_markdown(url: str) -> str:
    r"""Drop markdown backslash escapes left inside a URL (`\~` -> `~`)."""
    return _MD_ESCAPE.sub(r"\1", url)


def looks_like_url(value: str) -> bool:
    """True for an absolute http(s) URL or a `www.` host, the forms wrappers carry."""
    value = value.strip()
    if value.lower().startswith(("http://", "https://")):
        return bool(urlsplit(value).netloc)
    return value.lower().startswith("www.") and "." in value[4:] and " " not in value


# Hosts are asked of the same few thousand URLs again and again during a check (the
# gate, the network-down rule, politeness, drift): parse each once.
URL_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=URL_CACHE_SIZE)
def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:  # e.g. an invalid IPv6 literal
        return None


def _raw_params(query: str, names: tuple[str, ...], own: frozenset[str]) -> Iterator[str]:
    """The raw (still encoded) values of `names` in `query`, in the order of `names`.

    Wrappers often carry the inner URL unencoded (`q=https://x/?a=1&b=2`); then the inner
    URL's own `&b=2` belongs to it, up to the next parameter that is the wrapper's own.
    Google's click-through form has an empty `q=` and the target in `url=`: every name is
    offered in turn, and the caller takes the first that holds a URL.
    """
    parts = query.split("&")
    for name in names:
        for index, part in enumerate(parts):
            key, sep, value = part.partition("=")
            if not sep or unquote(key) != name:
                continue
            if "://" not in value:  # encoded: the value ends at the next `&`
                yield value
                break
            tail = [value]
            for following in parts[index + 1 :]:
                following_key = following.partition("=")[0]
                if following_key in own or following_key in names:
                    break
                tail.append(following)
            yield "&".join(tail)
            break


def _inner_url(raw: str) -> str:
    value = raw
    # Decode repeatedly: some wrappers double-encode (`https%253A%252F%252F`).
    for _ in range(3):
        if "://" in value or "%" not in value:
            break
        value = unquote(value)
    value = value.strip()
    if value.lower().startswith("www."):
        value = "https://" + value
    return value


def unwrap_once(url: str) -> Unwrapped | None:
    """Apply the first matching rule once; None when no rule applies."""
    quick = _HOST_PART.match(url)
    if quick and not _ANY_WRAPPER_HOST.fullmatch(quick.group(1).rstrip(".")):
        return None
    parts = _split(url)
    if parts is None or parts.scheme.lower() not in ("http", "https"):
        return None
    host = (parts.hostname or "").rstrip(".")
    if not _ANY_WRAPPER_HOST.fullmatch(host):
        return None
    for rule in RULES:
        if not (rule.host.fullmatch(host) and rule.path.fullmatch(parts.path or "/")):
            continue
        found = False
        for raw in _raw_params(parts.query, rule.params, rule.own_params):
            found = True
            inner = _inner_url(raw)
            if not looks_like_url(inner):
                continue
            # An unencoded inner URL may have lost its fragment to the wrapper.
            if parts.fragment and "#" not in inner:
                inner = f"{inner}#{parts.fragment}"
            return Unwrapped(inner, (rule.name,), decoded="://" not in raw)
        if found and rule.only_if_url:
            return Unwrapped(url, (), (f"{rule.name}:not-a-url",))
    return None


def unwrap(url: str, text: str | None = None) -> Unwrapped:
    """Unwrap `url` through every wrapper it is nested in.

    `text` is the link text: when it is itself a URL and the wrapper carries that same URL
    percent-encoded, the text's spelling wins. An inner URL written raw in the wrapper is
    kept as written whatever the text says (`q=https://x.org/FAQ%23install` keeps `%23`).
    """
    current = unescape_markdown(url.strip())
    rules: list[str] = []
    flags: list[str] = []
    decoded = False
    for _ in range(_MAX_ROUNDS):
        step = unwrap_once(current)
        if step is None:
            break
        flags.extend(step.flags)
        if step.url == current:
            break
        rules.extend(step.rules)
        current, decoded = step.url, step.decoded
    if rules and decoded and text is not None:
        candidate = unescape_markdown(text.strip())
        if looks_like_url(candidate) and same_url(candidate, current):
            current = candidate
    return Unwrapped(current, tuple(rules), tuple(dict.fromkeys(flags)))


def link_kind(url: str) -> LinkKind:
    """Classify a link by scheme; only http(s) is ever fetched."""
    url = url.strip()
    if url.startswith("#"):
        return LinkKind.ANCHOR
    match = _SCHEME.match(url)
    if not match:
        return LinkKind.RELATIVE
    scheme = match.group(0)[:-1].lower()
    if scheme in ("http", "https"):
        return LinkKind.HTTP
    if scheme == "mailto":
        return LinkKind.MAILTO
    if scheme in ("ftp", "ftps", "sftp"):
        return LinkKind.FTP
    return LinkKind.OTHER


def _punycode(host: str) -> str:
    if host.isascii():
        return host.lower()
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        try:
            return host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            return host.lower()


@lru_cache(maxsize=URL_CACHE_SIZE)
def host_of(url: str) -> str:
    """The lower-case host name of `url` ("" if it has none).

    The network-down rule, the recorder's gate and the hosts that answered last time must
    all name hosts the same way, so they all use this.
    """
    parts = _split(url)
    return ((parts.hostname if parts else None) or "").lower()


def split_fragment(url: str) -> tuple[str, str]:
    """`urldefrag(url)` as a pair: the URL to request and its fragment.

    Most URLs have no `#`, and for them the answer is known without urldefrag's parse
    (3 µs a URL, paid twice for each link before a check's first request).
    """
    if "#" not in url:
        return url, ""
    request_url, fragment = urldefrag(url)
    return request_url, fragment


def normalise(url: str) -> str:
    """The identity of a URL: lower-case scheme and host, no default port, punycode host.

    Path, query and fragment are kept as written; an empty path becomes `/`. Non-URLs and
    non-network schemes come back unchanged.
    """
    url = url.strip()
    if _NORMAL.fullmatch(url):
        return url
    parts = _split(url)
    if parts is None or not parts.scheme or not parts.netloc:
        return url.strip()
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a non-numeric or out-of-range port: leave it for the checker to report
        return url.strip()
    host = _punycode((parts.hostname or "").rstrip("."))
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    path = parts.path or ("/" if scheme in _DEFAULT_PORTS else "")
    return urlunsplit((scheme, netloc, path, parts.query, parts.fragment))


def same_url(left: str, right: str) -> bool:
    """Equal after normalisation and percent-decoding (how a wrapper may have re-encoded it)."""
    return unquote(normalise(left)) == unquote(normalise(right))
