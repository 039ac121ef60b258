"""Building the outside-world clients the application hands down to `collector`."""

from __future__ import annotations

import httpx

from linkfresh import PROJECT_URL, __version__
from linkfresh.collector.web.client import Resolver, build_client
from linkfresh.config.settings import CheckSettings
from linkfresh.github import github_token

USER_AGENT = f"linkfresh/{__version__} (+{PROJECT_URL})"


def http_client(settings: CheckSettings, resolver: Resolver | None = None) -> httpx.AsyncClient:
    """The pooled, guarded httpx client with linkfresh's user agent (unless configured), and
    `$GITHUB_TOKEN`, when set, for GitHub's hosts."""
    return build_client(settings, default_user_agent=USER_AGENT, resolver=resolver,
                        github_token=github_token())
