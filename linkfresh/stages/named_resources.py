"""Part of the collect stage: arXiv title searches for the guide's resources named without a
link (digest section 7), for resources with no stored answer, a few searches per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import arxiv
from sqlalchemy import Engine

from linkfresh.collector.news.arxiv_source import search_titles
from linkfresh.collector.news.named_resources import (
    SUGGESTIONS_SOURCE,
    TitleQuery,
    find_resource_matches,
    queries_for,
)
from linkfresh.collector.news.outcomes import FailureKind, SourceKind, SourceOutcome, failed
from linkfresh.collector.types import Guide, NamedResource, Paper
from linkfresh.context import AppContext
from linkfresh.exitcodes import Fail
from linkfresh.storage.sources import save_resource_matches, settled_resource_searches

# Each search costs arXiv's 3-second spacing; a guide's handful of unlinked papers is done
# in a run or two, and a big guide does not stretch every collect.
SEARCHES_PER_RUN = 6
# A search that found nothing is tried again after this long (arXiv may have it later).
RETRY_AFTER = timedelta(days=90)
RESULTS_PER_SEARCH = 10


def pending_resources(app: AppContext, engine: Engine, now: datetime,
                      parsed: Sequence[Guide] | None = None) -> list[tuple[str, NamedResource]]:
    """`(guide, resource)` for every unlinked resource with searches to make and no answer
    stored (or an old "no match"); an unreadable guide raises `Fail`."""
    settled = settled_resource_searches(engine, now, RETRY_AFTER)
    return [(guide.path, resource)
            for guide in (parsed if parsed is not None else app.load_guides())
            for resource in guide.resources
            if resource.text not in settled and queries_for(resource)]


def search_named_resources(app: AppContext, engine: Engine, client: arxiv.Client, now: datetime,
                      parsed: Sequence[Guide] | None = None) -> SourceOutcome | None:
    """Search arXiv for pending resources through the run's one arXiv `client` and store the
    answers; None when nothing was pending. A failure is the outcome, never an exception."""
    try:
        pending = pending_resources(app, engine, now, parsed)
    except Fail as error:
        return failed(SUGGESTIONS_SOURCE, SourceKind.ARXIV, FailureKind.CONTENT, str(error))
    if not pending:
        return None

    def search(query: TitleQuery) -> tuple[list[Paper], SourceOutcome]:
        return search_titles(client, query.search, app.settings.arxiv,
                             max_results=RESULTS_PER_SEARCH)

    found, outcome = find_resource_matches(pending, search, max_searches=SEARCHES_PER_RUN)
    save_resource_matches(engine, found, now)
    return outcome
