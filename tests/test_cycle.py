"""One cycle reads each guide once and hands the parsed guide to every stage it runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from linkfresh import context
from linkfresh.context import AppContext
from linkfresh.stages.cycle import Cycle
from linkfresh.storage.migrations import open_database
from tests.configs import write_config
from tests.servers import LocalServer, closed_port, html_page


def test_run_all_parses_each_guide_once(
    tmp_path: Path, new_server: Callable[[], LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = new_server()
    (tmp_path / "guide.md").write_text(
        f"# Guide\n\n## Step\n\n- [fine]({server.route('/cycle/fine', html_page('Fine'))})\n"
    )
    arxiv = f"http://127.0.0.1:{closed_port()}/api/query"
    config = write_config(tmp_path, guides=["guide.md"], database="sqlite:///state.db",
                          reports_dir="reports", feeds=[], arxiv={"base_url": arxiv},
                          topics=[{"name": "Attention", "arxiv_query": "ti:attention"}])
    reads: list[Path] = []
    real_read = context.read_guide

    def counting_read(path: Path, *args: Any, **kwargs: Any) -> Any:
        reads.append(path)
        return real_read(path, *args, **kwargs)

    monkeypatch.setattr(context, "read_guide", counting_read)
    app = AppContext(config_path=config)
    engine = open_database(app.database_url())
    try:
        result = Cycle(app, engine).run_due(every=True)
    finally:
        engine.dispose()
    assert result.ran == ["check", "collect", "digest"]
    assert reads == [tmp_path / "guide.md"]
    assert list((tmp_path / "reports").glob("digest-*.md"))
