"""The UI's routes (fixed: the browser tests click them) and the page function behind each."""

from __future__ import annotations

from pipeline.ui import artifacts, compare_page, run_page, runs_list
from pipeline.ui.router import Router


def routes() -> Router:
    router = Router()
    router.add("/", runs_list.page)
    router.add("/run/<run_id>", run_page.page)
    router.add("/compare", compare_page.page)
    router.add("/artifact/<artifact_id>", artifacts.artifact_page)
    router.add("/lineage/<artifact_id>", artifacts.lineage_page)
    return router
