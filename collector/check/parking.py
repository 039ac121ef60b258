"""Parked and for-sale domains (pure): the parking markers of a page, and the `parked`
verdict, which needs both markers and a random path on the same host showing the same page.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from linkfresh.collector.check.fetch import Answer
from linkfresh.collector.check.pages import Page
from linkfresh.collector.guide.unwrap import URL_CACHE_SIZE

# Services that park domains or sell them, by the host names their landers, scripts and
# name servers' pages are served from (public lists of parking services: the TMA 2022
# "parking_services" list, Wappalyzer's "Domain parking" category, intrigue-ident's
# "Parked" checks). A page embedding, or a link redirected to, one of these is a marker.
PARKING_SERVICES: dict[str, str] = {
    "sedoparking.com": "Sedo", "sedo.com": "Sedo", "parkingcrew.net": "ParkingCrew",
    "parkingcrew.com": "ParkingCrew", "bodis.com": "Bodis", "above.com": "Above",
    "parklogic.com": "ParkLogic", "dsparking.com": "DomainSponsor", "ndparking.com": "ParkingCrew",
    "fastpark.net": "ParkingCrew", "parkingspa.com": "ParkingCrew",
    "domainsponsor.com": "DomainSponsor", "rookmedia.net": "Rook Media",
    "dsredirection.com": "DomainSponsor", "searchmagnified.com": "Skenzo", "voodoo.com": "Voodoo",
    "cashparking.com": "GoDaddy CashParking", "smartname.com": "GoDaddy CashParking",
    "parked-content.godaddy.com": "GoDaddy", "parkingpage.namecheap.com": "Namecheap",
    "parking.namecheap.com": "Namecheap", "dan.com": "Dan.com", "undeveloped.com": "Dan.com",
    "afternic.com": "Afternic", "hugedomains.com": "HugeDomains", "buydomains.com": "BuyDomains",
    "domainmarket.com": "DomainMarket", "uniregistry.com": "Uniregistry",
    "squadhelp.com": "Squadhelp", "brandbucket.com": "BrandBucket", "efty.com": "Efty",
    "domainnamesales.com": "DomainNameSales", "sav.com": "Sav", "parking.reg.ru": "REG.RU",
    "domainparking.ru": "DomainParking.ru", "snparking.ru": "SNPARKING",
    "internetvikings.com": "Internet Vikings", "parkingpage.production.flippa.com": "Flippa",
}
# Resources only parking landers load, wherever they are hosted: Google's AdSense for
# Domains script (offered to domain parking only) and GoDaddy's lander.
PARKING_RESOURCE_PATHS: dict[str, str] = {
    "/adsense/domains/caf.js": "AdSense for Domains", "/parking-lander/": "GoDaddy parking",
}
# "This domain is for sale / parked" in the languages parking services serve. Each phrase
# names the domain itself, so a page merely about buying domains does not match.
_PHRASES = [
    # English
    r"(?:this|the) domain(?: name)? (?:is|may be|might be|could be) for sale",
    r"domain(?: name)? (?:is )?for sale", r"buy this domain", r"purchase this domain",
    r"make an offer (?:on|for) this domain", r"inquire about this domain",
    r"interested in (?:buying |acquiring |purchasing )?this domain",
    r"(?:this )?domain (?:name )?(?:has been |is )?parked", r"(?:web )?page is parked",
    r"parked (?:free|domain)", r"is parked free of charge",
    r"sponsored listings displayed above are served automatically",
    # German
    r"diese domain (?:steht zum verkauf|kaufen|ist zu verkaufen|ist geparkt|wird zum verkauf)",
    r"domain (?:wurde )?geparkt", r"domain steht zum verkauf",
    # French
    r"ce (?:nom de )?domaine est (?:à vendre|en vente|parqué|stationné)",
    r"acheter ce (?:nom de )?domaine", r"domaine (?:parqué|à vendre)",
    # Spanish, Portuguese, Italian
    r"este dominio (?:está|esta) (?:a la venta|en venta|estacionado|aparcado)",
    r"comprar este dominio", r"dominio (?:en venta|aparcado|estacionado)",
    r"este domínio (?:está|esta) (?:à|a) venda", r"domínio (?:à venda|estacionado)",
    r"questo dominio è in vendita", r"acquista questo dominio",
    r"dominio (?:in vendita|parcheggiato)",
    # Dutch, Scandinavian, Polish, Czech, Turkish
    r"(?:dit domein|deze domeinnaam) is te koop", r"domeinnaam te koop",
    r"(?:denna domän|domänen) är till salu", r"dette (?:domæne|domenet) er til salg",
    r"ta domena jest na sprzedaż", r"domena (?:na sprzedaż|zaparkowana)",
    r"tato doména je na prodej", r"bu alan adı satılık",
    # Russian, Chinese, Japanese, Korean
    r"(?:этот )?домен прода[её]тся", r"купить (?:этот )?домен", r"домен припаркован",
    r"(?:该|此|这个)域名(?:正在)?出售", r"域名(?:出售|停放)", r"購買此網域|此網域名稱出售",
    r"このドメインは(?:販売中|売り出し中|売却)", r"ドメイン販売中",
    r"이 도메인(?:은|을) (?:판매|구매)",
]
PARKING_PHRASE = re.compile("|".join(f"(?:{phrase})" for phrase in _PHRASES), re.IGNORECASE)
# Every phrase holds one of these words; looking for them first is what keeps the search
# cheap (the alternation above costs 0.35 ms on 500 characters of text, 2,000 pages 0.7 s).
_PHRASE_WORDS = ("domain", "dominio", "domínio", "domein", "domän", "domæne", "domen", "domén",
                 "alan adı", "домен", "域名", "網域", "ドメイン", "도메인", "parked",
                 "sponsored listings")
# Parking services send every path of a parked domain to a "/lander" page, or to ww1., ww25.
_LANDER_PATH = re.compile(r"^/lander(?:/|$)", re.IGNORECASE)
_WW_HOST = re.compile(r"^ww\d+\.", re.IGNORECASE)


@lru_cache(maxsize=URL_CACHE_SIZE)
def service_of(url: str) -> str | None:
    """The parking service or domain marketplace `url` is served from, if it is one."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    for domain, name in PARKING_SERVICES.items():
        if host == domain or host.endswith("." + domain):
            return name
    return None


def parking_phrase(text: str | None) -> str | None:
    """The "domain for sale / parked" phrase `text` contains, if any."""
    lower = (text or "").lower()
    if not any(word in lower for word in _PHRASE_WORDS):
        return None
    found = PARKING_PHRASE.search(text or "")
    return found.group(0) if found else None


def _resource_service(url: str) -> str | None:
    found = service_of(url)
    if found:
        return found
    path = urlsplit(url).path.lower()
    return next((name for marker, name in PARKING_RESOURCE_PATHS.items() if marker in path), None)


def parking_markers(requested: str, final: str, page: Page | None) -> tuple[str, ...]:
    """What about this answer looks like a parking lander, each as a short piece of evidence.

    Never any for a link to a parking service's or marketplace's own site: its pages talk
    about selling domains.
    """
    if service_of(requested):
        return ()
    found: list[str] = []
    landed = service_of(final)
    if landed:
        found.append(f"redirected to {landed} ({urlsplit(final).hostname})")
    elif _LANDER_PATH.match(urlsplit(final).path) or (
        _WW_HOST.match(urlsplit(final).hostname or "")
        and not _WW_HOST.match(urlsplit(requested).hostname or "")
    ):
        found.append(f"redirected to a parking lander ({final[:100]})")
    if page is None:
        return tuple(found)
    for label, text in (("title", page.title), ("heading", page.heading)):
        said = parking_phrase(text)
        if said:
            found.append(f"{label} says {said!r}")
    features = page.features
    if features is None:
        return tuple(found)
    if not any(item.startswith(("title", "heading")) for item in found):
        said = parking_phrase(features.text_head)
        if said:
            found.append(f"page says {said!r}")
    services = {name for url in features.resources if (name := _resource_service(url))}
    if services:
        found.append("loads parking scripts (" + ", ".join(sorted(services)) + ")")
    if features.redirect:
        target = urljoin(final, features.redirect)
        if _LANDER_PATH.match(urlsplit(target).path) or service_of(target):
            found.append(f"its script sends visitors to {features.redirect[:100]}")
    return tuple(found)


def answer_markers(answer: Answer) -> tuple[str, ...]:
    """`parking_markers` of a successful answer (none for anything else)."""
    if answer.failure is not None or answer.status is None or not 200 <= answer.status < 300:
        return ()
    return parking_markers(answer.url, answer.final_url, answer.page)


def is_suspect(answer: Answer) -> bool:
    """Worth one request to a random path of its host: the page shows parking markers."""
    return bool(answer_markers(answer))


def same_page(one: Answer, other: Answer) -> bool:
    """Both answers are the same page: the same final URL (query aside), or the same title
    and main heading with text of a like length (parking landers rotate their ads)."""
    if one.final_url.split("?", 1)[0] == other.final_url.split("?", 1)[0]:
        return True
    a, b = one.page, other.page
    if a is None or b is None or not (a.title or a.heading):
        return False
    if _norm(a.title) != _norm(b.title) or _norm(a.heading) != _norm(b.heading):
        return False
    if a.features is None or b.features is None:
        return a.features is b.features
    short, long = sorted((a.features.text_length, b.features.text_length))
    return long <= 2 * short + 200


def parked_sign(answer: Answer, probe: Answer | None) -> str | None:
    """The evidence that the linked host is parked, or None.

    Parked means all three: the linked page shows parking markers, a random path of the same
    host answers successfully, and with the same page (markers included). A real site that
    answers unknown paths with its home page keeps its distinct pages: they are not "the same".
    """
    markers = answer_markers(answer)
    if not markers or probe is None:
        return None
    if not answer_markers(probe) or not same_page(answer, probe):
        return None
    return ("parked domain: " + "; ".join(markers[:3])
            + "; a random path on the host shows the same page")


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split())
