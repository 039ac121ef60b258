# ruff: noqa: E501  (real-format XML is kept on its real lines)
"""Real-format arXiv API replies for the tests, and a paging query handler serving them.

The XML follows https://info.arxiv.org/help/api/user-manual.html section 3.3 (results) and
3.4 (errors): opensearch totals, versioned ids, arxiv:primary_category, arxiv:comment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from tests.servers import Reply, Request

ATOM_TYPE = "application/atom+xml; charset=utf-8"


@dataclass(frozen=True)
class Entry:
    short_id: str  # with version, e.g. 2411.01234v2
    published: datetime
    title: str = "A study of attention"
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing")
    updated: datetime | None = None
    comment: str | None = "12 pages, 3 figures"
    categories: tuple[str, ...] = ("cs.CL", "cs.LG")
    summary: str | None = None  # None: "We study <title> in large language models."


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_xml(entry: Entry) -> str:
    authors = "".join(f"\n    <author>\n      <name>{escape(name)}</name>\n    </author>"
                      for name in entry.authors)
    comment = (f'\n    <arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">'
               f"{escape(entry.comment)}</arxiv:comment>" if entry.comment else "")
    categories = "".join(f'\n    <category term="{c}" scheme="http://arxiv.org/schemas/atom"/>'
                         for c in entry.categories)
    return f"""
  <entry>
    <id>http://arxiv.org/abs/{entry.short_id}</id>
    <updated>{_stamp(entry.updated or entry.published)}</updated>
    <published>{_stamp(entry.published)}</published>
    <title>{escape(entry.title)}:
  a line-wrapped title</title>
    <summary>  {escape(entry.summary) if entry.summary is not None else
                 f"We study {escape(entry.title.lower())} in"}
{"" if entry.summary is not None else "large language models."}
</summary>{authors}{comment}
    <link href="http://arxiv.org/abs/{entry.short_id}" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{entry.short_id}" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="{entry.categories[0]}" scheme="http://arxiv.org/schemas/atom"/>{categories}
  </entry>"""


def feed_xml(entries: list[Entry], total: int, start: int, query: str = "all:x") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?search_query%3D{escape(query, {'"': "&quot;"})}" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: search_query={escape(query)}&amp;id_list=&amp;start={start}</title>
  <id>http://arxiv.org/api/cHxbiOdZaP56ODnBPIenZhzg5f8</id>
  <updated>2024-11-20T00:00:00-05:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{start}</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{len(entries)}</opensearch:itemsPerPage>{"".join(entry_xml(e) for e in entries)}
</feed>
"""


ERROR_FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
  <link href="http://arxiv.org/api/query?search_query=&amp;id_list=1234.12345" rel="self" type="application/atom+xml"/>
  <title>ArXiv Query: search_query=&amp;id_list=1234.12345&amp;start=0&amp;max_results=10</title>
  <id>http://arxiv.org/api/kvuntZ8c9a4Eq5CF7KY03nMug+Q</id>
  <updated>2007-10-12T00:00:00-04:00</updated>
  <opensearch:totalResults>1</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345</id>
    <title>Error</title>
    <summary>incorrect id format for 1234.12345</summary>
    <updated>2007-10-12T00:00:00-04:00</updated>
    <link href="http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345" rel="alternate" type="text/html"/>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>
</feed>
"""


def query_params(request: Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.query).items()}


def paging_handler(by_query: dict[str, list[Entry]]) -> Callable[[Request], Reply]:
    """Answer `search_query` with its entries, newest first, paged by start/max_results."""

    def handle(request: Request) -> Reply:
        params = query_params(request)
        query = params.get("search_query", "")
        entries = sorted(by_query.get(query, []), key=lambda e: e.published, reverse=True)
        start, size = int(params.get("start", 0)), int(params.get("max_results", 10))
        page = entries[start : start + size]
        return Reply(200, {"Content-Type": ATOM_TYPE}, feed_xml(page, len(entries), start, query))

    return handle


def entries_before(now: datetime, count: int, prefix: str = "2411", hours: int = 24,
                   start: int = 0) -> list[Entry]:
    """`count` entries submitted `hours` apart, the newest `hours` before `now`."""
    return [Entry(f"{prefix}.{start + i:05d}v1", now - timedelta(hours=hours * (i + 1)),
                  title=f"Paper {start + i}")
            for i in range(count)]
