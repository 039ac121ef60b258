"""The arXiv client's requests sent through linkfresh's guarded httpx client, in full.

The `arxiv` package talks through a requests session, which would resolve names, follow
redirects and take proxy settings from the environment where the address guard cannot see,
and whose timeout bounds each read, not the reply. This adapter hands every request to
`build_client` (the guard on every hop, no environment proxies) with a total deadline.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from linkfresh.collector.web.client import (
    BlockedURL,
    NameNotResolved,
    Resolver,
    build_client,
    read_capped,
)
from linkfresh.config.settings import CheckSettings

# The largest reply read: a page of 2,000 entries (the most `page_size` allows) is ~6 MB.
MAX_REPLY_BYTES = 32 * 1024 * 1024
# Request headers passed on; the client sets its own Accept-Encoding (the one it can decode).
_PASSED_HEADERS = ("accept",)


class ArxivBlocked(requests.RequestException):
    """The address guard refused the request (a private address, or not http(s))."""


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


class GuardedAdapter(BaseAdapter):
    """A requests transport that fetches with the guarded httpx client; counts requests.

    `deadline` bounds each request from connecting to the last byte. Failures are raised
    as the requests exceptions the arxiv package and `arxiv_source` know.
    """

    def __init__(self, check: CheckSettings, user_agent: str, deadline: float,
                 resolver: Resolver | None = None) -> None:
        super().__init__()
        self.check, self.user_agent, self.deadline = check, user_agent, deadline
        self.resolver = resolver
        self.sent = 0

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
             ) -> requests.Response:
        self.sent += 1
        headers = {name: value for name, value in request.headers.items()
                   if name.lower() in _PASSED_HEADERS}
        headers["User-Agent"] = self.user_agent
        reply = _in_own_loop(self._get(str(request.url), headers))
        response = requests.Response()
        response.status_code = reply.status
        response.url = reply.url
        response.headers = CaseInsensitiveDict(reply.headers)
        response._content = reply.body
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.request = request
        response.connection = self
        return response

    def close(self) -> None:
        pass

    async def _get(self, url: str, headers: dict[str, str]) -> _Reply:
        try:
            async with (
                asyncio.timeout(self.deadline),
                build_client(self.check, default_user_agent=self.user_agent,
                             resolver=self.resolver, follow_redirects=True) as client,
                client.stream("GET", url, headers=headers) as reply,
            ):
                body = await read_capped(reply, MAX_REPLY_BYTES)
        except TimeoutError:
            raise requests.Timeout(f"no complete reply within {self.deadline:g} s") from None
        except BlockedURL as error:
            raise ArxivBlocked(str(error)) from None
        except (NameNotResolved, httpx.ConnectError) as error:
            raise requests.ConnectionError(str(error) or type(error).__name__) from None
        except httpx.TimeoutException as error:
            raise requests.Timeout(str(error) or type(error).__name__) from None
        except httpx.TooManyRedirects as error:
            raise requests.TooManyRedirects(str(error)) from None
        except httpx.HTTPError as error:
            raise requests.ConnectionError(f"{type(error).__name__}: {error}") from None
        except (httpx.InvalidURL, ValueError, UnicodeError) as error:
            raise requests.exceptions.InvalidURL(str(error)) from None
        if body.truncated:
            raise requests.exceptions.ContentDecodingError(
                f"reply larger than {MAX_REPLY_BYTES} bytes")
        if body.decode_error:
            raise requests.exceptions.ContentDecodingError(body.decode_error)
        kept = {name: value for name, value in reply.headers.items()
                if name.lower() not in ("content-encoding", "content-length",
                                        "transfer-encoding")}
        return _Reply(reply.status_code, str(reply.url), kept, body.data)


def _in_own_loop(work: Any) -> _Reply:
    """Run coroutine `work` on a fresh event loop in its own thread and wait for it.

    The caller may itself be inside a running loop (collect pulls arXiv from async code,
    deliberately blocking it), where `asyncio.run` is not allowed. The thread is a daemon:
    a shutting-down daemon must never wait for it.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["reply"] = asyncio.run(work)
        except BaseException as error:  # handed back to the calling thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name="linkfresh-arxiv", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["reply"]
