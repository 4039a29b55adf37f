"""``/v1/admin/experiments``: the experiment definitions and their reports (server key)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, put
from litestar.datastructures import State
from litestar.openapi.spec import Operation
from litestar.params import PathParameter, QueryParameter

from personalize.api.admin import file_body, uploaded_file
from personalize.api.auth import API_KEY_SECURITY, require_api_key
from personalize.api.responses import errors
from personalize.clock import now_ms, utc
from personalize.errors import NotFound
from personalize.experiments.report import Report, experiment_report
from personalize.experiments.types import ExperimentsOut
from personalize.runtime import Runtime
from personalize.store.documents import FileDocument


@dataclass
class ExperimentsFileUpload(Operation):
    """``PUT /v1/admin/experiments`` reads its body itself, like the banner file."""

    def __post_init__(self) -> None:
        text = 'The experiment definitions, TOML or JSON (README, "Experiments"); the whole file replaces them.'
        self.request_body = file_body("experiments file", text)


def experiments_out(runtime: Runtime, at_ms: int) -> ExperimentsOut:
    """What the definition routes answer."""
    live = runtime.experiments
    document = live.document
    return ExperimentsOut(
        version=live.version,
        format=document.format if document else None,
        content=document.content if document else None,
        experiments=list(live.defined.experiments),
        banner_tests=list(live.banner_tests.values()),
        running=[experiment.id for experiment in live.running(at_ms)],
        as_of=utc(at_ms),
    )


class ExperimentsController(Controller):
    path = "/v1/admin/experiments"
    guards = [require_api_key]  # noqa: RUF012 - litestar reads the class attribute
    security = API_KEY_SECURITY
    tags = ["experiments"]  # noqa: RUF012

    @get("/", responses=errors(401, 503))
    async def get_experiments(self, state: State) -> ExperimentsOut:
        """The experiment definitions in service: the uploaded file's version, format and text, every definition
        with its defaults, and which run now."""
        await state.runtime.experiments.refresh(state.runtime.store)
        return experiments_out(state.runtime, now_ms())

    @put("/", status_code=200, operation_class=ExperimentsFileUpload, responses=errors(400, 401, 422, 503))
    async def put_experiments(self, request: Request[Any, Any, Any], state: State) -> ExperimentsOut:
        """Replace the experiment definitions: TOML or JSON. Validated whole — weights that do not add up to 100,
        an unknown placement or strategy, a stop before the start, two experiments changing the same thing while
        both run — 422 naming the field (and both experiments), then stored as a new version that every process
        serves within ``catalog_refresh_seconds``; a rejected file changes nothing."""
        fmt, text = await uploaded_file(request, "experiments file")
        await state.runtime.experiments.put(state.runtime.store, FileDocument(fmt, text))
        return experiments_out(state.runtime, now_ms())

    @get("/{experiment_id:str}/report", responses=errors(400, 401, 404, 503))
    async def report(
        self,
        state: State,
        experiment_id: Annotated[str, PathParameter(max_length=200)],
        cuped: Annotated[bool, QueryParameter(description="CUPED on revenue per unit")] = False,
    ) -> Report:
        """Per arm: units exposed, conversion, orders and revenue per unit, average order value, items per order,
        retention (customer units) and clicks per placement; per treatment arm the absolute and relative difference
        to control with 95 % intervals and p-values; the sample-ratio check; whether it is too young to read. Read
        from running sums: the same cost at any number of units."""
        runtime = state.runtime
        await runtime.banners.refresh(runtime.store)
        await runtime.experiments.refresh(runtime.store)
        experiment = runtime.experiments.by_id.get(experiment_id)
        if experiment is None:
            known = sorted(runtime.experiments.by_id)
            raise NotFound(f"no experiment {experiment_id!r} (defined: {known})", "experiment_id")
        return await experiment_report(runtime, experiment, cuped=cuped, now_ms=now_ms())
