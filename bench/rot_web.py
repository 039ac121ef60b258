"""Link rot that still answers 200, for the simulated web (`simweb.py --rot`).

Three of simweb's hosts get a role (the last three, so the usual corpus on the first hosts
is untouched):

    parked    every path answers 200 with a parking lander: the domain as title, "This
              domain may be for sale", Google's AdSense for Domains script, and "related
              searches" that change on every request (as real landers rotate their ads)
    catchall  a real site that answers unknown paths with its home page (200);
              /article/<n> are its distinct pages, some of them about parked domains
    drift     /drift/<kind>/<n>: course pages in phase 1 (when the guide was written);
              in phase 2 (POST /_phase?n=2 on the control server) each kind changes:
                  title   a generic landing page ("Explore the catalog | Home")
                  login   302 to /login, a sign-in form
                  shrink  the same title over a one-line stub
                  same    a reworded title that still names the course (must stay ok)

`answer` returns (status, headers, body) or None to leave the path to simweb.
"""

from __future__ import annotations

import itertools

ROLES = ("parked", "catchall", "drift")
DRIFT_KINDS = ("title", "login", "shrink", "same")
_HTML = "text/html; charset=utf-8"
_TEXT = ("<p>Backpropagation, convolutions, attention and the rest of the syllabus, week "
         "by week, with notes, slides and assignments.</p>") * 30


def _page(title: str, body: str) -> bytes:
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body>{body}</body></html>").encode()


class RotWeb:
    """The rot roles of three hosts, and the phase the drifting pages are in."""

    def __init__(self, hosts: list[str]) -> None:
        if len(hosts) < len(ROLES) + 1:
            raise ValueError(f"--rot needs at least {len(ROLES) + 1} hosts")
        self.role = dict(zip(hosts[-len(ROLES):], ROLES, strict=True))
        self.host_of = {role: host for host, role in self.role.items()}
        self.phase = 1
        self._served = itertools.count()

    def answer(self, host: str, path: str) -> tuple[int, dict[str, str], bytes] | None:
        role = self.role.get(host)
        if role == "parked":
            return 200, {"content-type": _HTML}, self._lander(host)
        if role == "catchall":
            return 200, {"content-type": _HTML}, self._catchall(path)
        if role == "drift":
            return self._drift(path)
        return None

    def _lander(self, host: str) -> bytes:
        n = next(self._served)
        searches = "".join(f'<li><a href="/search?q=ml-{n}-{i}">Machine learning {n}-{i}</a></li>'
                           for i in range(3 + n % 4))
        return _page(
            "old-ml-blog.example",
            '<script src="https://www.google.com/adsense/domains/caf.js"></script>'
            f"<h1>old-ml-blog.example</h1><p>This domain may be for sale!</p>"
            f"<h2>Related searches</h2><ul>{searches}</ul><p>served by {host}</p>")

    def _catchall(self, path: str) -> bytes:
        kind, _, n = path.strip("/").partition("/")
        if kind == "article" and n.isdigit():
            about = (" What a parked domain is: the lander says this domain is for sale."
                     if int(n) % 2 else "")
            return _page(f"Article {n}: notes on training", f"<h1>Article {n}</h1><p>Notes on "
                         f"training, part {n}.{about}</p>" + _TEXT[: 400 + 40 * int(n)])
        return _page("Domain Notes", "<h1>Domain Notes</h1><p>Notes on domains: is this domain "
                     "for sale, who parks domains, and why.</p>")

    def _drift(self, path: str) -> tuple[int, dict[str, str], bytes]:
        parts = path.strip("/").split("/")
        html = {"content-type": _HTML}
        if parts == ["login"]:
            return 200, html, _page("Sign in", '<form><input name="user">'
                                    '<input type="password" name="pw"></form>')
        if len(parts) != 3 or parts[0] != "drift" or parts[1] not in DRIFT_KINDS:
            return 404, html, _page("404 Not Found", "<h1>Not Found</h1>")
        kind, n = parts[1], parts[2]
        course = f"CS{n}: Deep Learning for Vision"
        if self.phase == 1:
            return 200, html, _page(f"{course} | Vision Lab", f"<h1>{course}</h1>{_TEXT}")
        if kind == "title":
            return 200, html, _page("Explore the catalog | Home", f"<h1>Welcome</h1>{_TEXT}")
        if kind == "login":
            return 302, {**html, "location": f"/login?next={path}"}, b""
        if kind == "shrink":
            return 200, html, _page(f"{course} | Vision Lab", "<p>This page moved.</p>")
        return 200, html, _page(f"Deep Learning for Vision (CS{n}), spring term | Vision Lab",
                                f"<h1>{course}</h1>{_TEXT}")
