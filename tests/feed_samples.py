# ruff: noqa: E501  (real-format feeds are kept on their real lines)
"""Real-format RSS 2.0, Atom and HTML pages for the feed tests, and the bad ones."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


def rss(items: list[tuple[str, str, datetime | str | None, str]], title: str = "Example AI Blog") -> str:
    """RSS 2.0 as WordPress/Ghost write it: (link, title, date, description) per item."""
    body = []
    for link, item_title, date, description in items:
        when = format_datetime(date) if isinstance(date, datetime) else date
        pub = f"\n      <pubDate>{when}</pubDate>" if when else ""
        body.append(f"""
    <item>
      <title>{escape(item_title)}</title>
      <link>{escape(link)}</link>
      <guid isPermaLink="false">{escape(link)}</guid>{pub}
      <dc:creator><![CDATA[Jay Example]]></dc:creator>
      <category><![CDATA[NLP]]></category>
      <description><![CDATA[{description}]]></description>
    </item>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{escape(title)}</title>
    <link>https://blog.example.org/</link>
    <atom:link href="https://blog.example.org/rss/" rel="self" type="application/rss+xml"/>
    <description>Notes on machine learning</description>
    <lastBuildDate>Wed, 20 Nov 2024 09:00:00 +0000</lastBuildDate>{"".join(body)}
  </channel>
</rss>
"""


def atom(entries: list[tuple[str, str, str, str]]) -> str:
    """Atom 1.0 as Jekyll's jekyll-feed writes it: (href, title, updated ISO, summary)."""
    body = "".join(f"""
  <entry>
    <title type="html">{escape(title)}</title>
    <link href="{escape(href)}" rel="alternate" type="text/html" title="{escape(title)}"/>
    <published>{updated}</published>
    <updated>{updated}</updated>
    <id>{escape(href)}</id>
    <content type="html" xml:base="{escape(href)}">{escape(summary)}</content>
    <author><name>Jay Example</name></author>
    <summary type="html">{escape(summary)}</summary>
  </entry>""" for href, title, updated, summary in entries)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <generator uri="https://jekyllrb.com/" version="4.3.2">Jekyll</generator>
  <link href="https://author.example.io/feed.xml" rel="self" type="application/atom+xml"/>
  <link href="https://author.example.io/" rel="alternate" type="text/html"/>
  <updated>2024-11-20T10:00:00+00:00</updated>
  <id>https://author.example.io/feed.xml</id>
  <title type="html">An Example Author</title>{body}
</feed>
"""


def site_page(feed_href: str, title: str = "Example Research Blog") -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/main.css">
<link rel="alternate" type="application/rss+xml" title="Comments Feed" href="/comments/feed/">
<link rel="alternate" type="application/atom+xml" title="{title}" href="{feed_href}">
</head><body><h1>{title}</h1><p>Welcome.</p></body></html>"""


LISTING_PAGE = """<!DOCTYPE html>
<html><head><title>The Batch | AI News</title></head><body>
<nav><a href="/">Home</a> <a href="/courses/">Courses</a> <a href="https://twitter.com/x">Twitter</a></nav>
<main>
  <article class="post-card">
    <a href="/the-batch/issue-276/?utm_source=site&amp;utm_medium=listing"><img src="/a.png" alt=""></a>
    <div><h2><a href="/the-batch/issue-276/?utm_source=site&amp;utm_medium=listing">Speculative decoding goes mainstream</a></h2>
    <time datetime="2024-11-20T08:00:00-08:00">Nov 20, 2024</time>
    <p>Faster inference with quantization and a draft model.</p></div>
  </article>
  <article class="post-card">
    <h2><a href="https://www.example-batch.org/the-batch/issue-275/">RLHF, revisited</a></h2>
    <div class="meta">Published Nov 13, 2024</div>
    <p>Alignment with human feedback, and what DPO changed.</p>
  </article>
  <article class="post-card">
    <h2><a href="https://ads.elsewhere.example/buy">Sponsored</a></h2>
  </article>
  <article class="post-card">
    <h2><a href="/the-batch/issue-274/">A week without a date</a></h2>
    <p>No date on this card.</p>
  </article>
</main></body></html>"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>https://blog.example.org/laughs</link></item>
</channel></rss>
"""


def xxe(target: str) -> str:
    """A feed whose entity names an external resource (a local file or a URL)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{target}">]>
<rss version="2.0"><channel><title>Blog</title>
<item><title>Leak: &xxe;</title><link>https://blog.example.org/leak</link>
<description>&xxe;</description></item>
</channel></rss>
"""
