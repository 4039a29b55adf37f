"""Schemathesis against a running ``personalize serve``, on Redis and on the memory store: every operation of the
OpenAPI schema, with the API key, about 3,600 generated cases per store (examples, coverage, fuzzing and stateful
phases), about a minute in all. Zero 5xx, and every response conforms to the schema (status, content type,
headers, body).

``st run`` runs as a subprocess (its own process, so its threads and warnings stay out of pytest's) with the
checks of ``tests/fuzz/checks.py``; its JSON report gives the case count, shown in the terminal summary.
``FUZZ_SEED`` and ``FUZZ_EXAMPLES`` (examples per operation and phase) vary or widen a run.

Checks left out: ``object_level_authorization`` needs two identities (the API has one key);
``max_response_time`` would make the suite depend on the machine (the load test owns latency).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.api.conftest import CATALOG
from tests.conftest import API_KEY
from tests.fuzz.checks import allow_lists_one_method_only
from tests.fuzz.runs import FuzzRun, record, record_hostile
from tests.properties.hostile import run_cases
from tests.serving import running_server

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {API_KEY}"}
HERE = Path(__file__).parent
SEED = int(os.environ.get("FUZZ_SEED", "8"))
PROGRAM = Path(__file__).resolve().parents[2] / "personalize" / "demo" / "loyalty.toml"
PROGRAM_PATH = "/v1/admin/loyalty"
EXPERIMENTS_PATH = "/v1/admin/experiments"
CAMPAIGNS_PATH = "/v1/admin/campaigns"
SEED_EXPERIMENT = {
    "experiments": [{"id": "seed-exp", "changes": "nudges", "start": "2026-01-01T00:00:00Z",
                     "arms": [{"name": "control", "weight": 50, "enabled": False}, {"name": "on", "weight": 50}]}]
}  # fmt: skip
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
MIN_CASES = 1000
TIME_LIMIT_S = 240
HOSTILE_EXAMPLES = 600
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "missing_required_header",
    "unsupported_method",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
    # three built-in checks, each with its one stated allowance, and reachability (tests/fuzz/checks.py)
    "schema_valid_requests_accepted",
    "schema_violations_rejected",
    "allow_lists_the_methods",
    "EveryOperationSucceeds",
]


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis), "memory"])
def store_url(request: pytest.FixtureRequest) -> str:
    return "memory://" if request.param == "memory" else str(request.getfixturevalue("redis_url"))


def test_every_operation_keeps_its_schema_under_fuzzing(store_url: str, demo_models: Path, tmp_path: Path) -> None:
    # trained models, so that POST /v1/admin/models/reload has something to load (every operation must answer 2xx)
    # the demo's program: rewards to redeem and an action to record
    env = {"PZ_MODELS_DIR": str(demo_models), "PZ_CONFIG": str(PROGRAM)}
    with running_server("--store", store_url, "--no-demo", env=env) as base:
        known = seed_store(base)
        allow_lists_one_method_only(base, AUTH)
        schema = httpx.get(f"{base}/schema/openapi.json").json()
        schema_file = tmp_path / "openapi.json"
        schema_file.write_text(json.dumps(schema))
        config_file = tmp_path / "schemathesis.toml"
        config_file.write_text(config_toml(known))
        store = store_url.split(":")[0]
        # the program, experiment and campaign files last, in a run of their own: a program uploaded mid-run would
        # take away the rewards and the action the other operations' requests name, an experiments file the seeded
        # experiment
        files = [PROGRAM_PATH, EXPERIMENTS_PATH, CAMPAIGNS_PATH]
        others = [option for path in files for option in ("--exclude-path", path)]
        own = [option for path in files for option in ("--include-path", path)]
        runs = [
            fuzz(schema_file, base, config_file, tmp_path / "report.json", store, others),
            fuzz(schema_file, base, config_file, tmp_path / "program.json", store, own),
        ]
        hostile = hostile_against_server(base, schema, store_url)
    for run in runs:
        record(run)
        assert run.complete, run.failure_text()
        assert run.exit_code == 0, run.failure_text()
    record_hostile(store, hostile)
    every = len([op for ops in schema["paths"].values() for op in ops])
    assert sum(run.operations for run in runs) == every, [run.line() for run in runs]
    assert runs[0].cases >= MIN_CASES, f"only {runs[0].cases} cases; raise FUZZ_EXAMPLES"


def hostile_against_server(base: str, schema: dict[str, Any], store_url: str) -> dict[str, int]:
    """The in-process hostile-input cases (``tests/properties/hostile.py``) against the served app: no 5xx; on
    Redis, no 4xx changes the keyspace (the memory store lives in the server process, out of the test's sight)."""
    digest = (lambda: keyspace_digest(store_url)) if store_url.startswith("redis") else None
    with httpx.Client(base_url=base, timeout=30) as client:
        return run_cases(client, schema, HOSTILE_EXAMPLES, digest)


def keyspace_digest(url: str) -> str:
    client = redis.Redis.from_url(url)
    try:
        digest = hashlib.sha256()
        for key in sorted(client.scan_iter(count=1000)):
            digest.update(key + b"\0" + (client.dump(key) or b"") + b"\0")
        return digest.hexdigest()
    finally:
        client.close()


def seed_store(base: str) -> dict[str, list[str]]:
    """Records for the generated requests to find (ids the fuzzer is steered towards, see :func:`config_toml`)."""
    items = CATALOG[:12]
    assert httpx.put(f"{base}/v1/catalog/items", json={"items": items}, headers=AUTH).status_code == 200
    orders = [f"o-{n}" for n in range(1, 4)]
    for n, order_id in enumerate(orders):
        order = {
            "order_id": order_id,
            "customer_id": "c-1",
            "items": [{"item_id": items[n]["item_id"], "quantity": 2, "price": 250}],
            "total": 500,
            "currency": "USD",
            "completed_at": "2026-11-01T10:00:00Z",
        }
        assert httpx.post(f"{base}/v1/orders", json=order, headers=AUTH).status_code == 200
    campaign = {"campaign_id": "seed", "name": "Seed", "discount_pct": 10, "audience": {"customer_ids": ["c-1"]}}
    issued = httpx.post(f"{base}/v1/coupons/campaigns", json={**campaign, "unassigned": 2}, headers=AUTH)
    assert issued.status_code == 201
    views = [{"type": "product_view", "item_id": item["item_id"]} for item in items[:3]]
    assert httpx.post(f"{base}/v1/events", json={"session_id": "s-1", "events": views}).status_code == 202
    segments = httpx.get(f"{base}/v1/segments", headers=AUTH).json()["counts"]
    assert httpx.put(f"{base}/v1/customers/c-1", json={"first_name": "Ann"}, headers=AUTH).status_code == 200
    experiments = httpx.put(f"{base}{EXPERIMENTS_PATH}", json=SEED_EXPERIMENT, headers=AUTH)
    assert experiments.status_code == 200, experiments.text
    redeem = {"redemption_id": "rd-1", "reward_id": "free-shipping"}
    assert httpx.post(f"{base}/v1/customers/c-1/redemptions", json=redeem, headers=AUTH).status_code == 201
    return {
        "items": [item["item_id"] for item in items],
        "orders": orders,
        "customers": ["c-1"],
        "codes": issued.json()["sample"],
        "sessions": ["s-1"],
        "segments": [*segments, "other"],
        "currencies": ["USD"],
        "rewards": ["free-shipping", "ten-off"],
        "redemptions": ["rd-1"],
        "actions": ["recycling_dropoff"],
        "amounts": [250, 12.5],
        "times": ["2026-11-20T10:00:00Z"],
        "experiments": ["seed-exp"],
    }


def config_toml(known: dict[str, list[str]]) -> str:
    """The run's configuration: the ids of the seeded records are offered half the time."""
    bindings = {
        "path.item_id": "items",
        "path.order_id": "orders",
        "path.customer_id": "customers",
        "path.code": "codes",
        "path.session_id": "sessions",
        "path.name": "segments",
        "body.customer_id": "customers",
        "body.currency": "currencies",
        "body.page.item_id": "items",
        "body.items[*].item_id": "items",
        "body.reward_id": "rewards",
        "path.redemption_id": "redemptions",
        "body.action": "actions",
        "body.total": "amounts",
        "body.items[*].price": "amounts",
        "body.completed_at": "times",
        "path.experiment_id": "experiments",
    }
    lines = ["[parameters]"]
    lines += [f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}' for key, name in bindings.items()]
    for name, values in known.items():
        lines += ["", f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
    return "\n".join(lines) + "\n"


def fuzz(schema_file: Path, base: str, config_file: Path, report: Path, store: str, select: list[str]) -> FuzzRun:
    """One ``st run`` over the operations ``select`` (``--include-…`` / ``--exclude-…`` options) names."""
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config_file),
        "--no-color",
        "run",
        str(schema_file),
        "--url",
        base,
        "--header",
        f"Authorization: Bearer {API_KEY}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        # one worker: the interpreter's AST compiler is not thread-safe in 3.11 (SystemError under -w 2)
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        *select,
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HERE / "checks.py")}
    started = time.monotonic()
    # in the run's own directory: st keeps a cache in ./.schemathesis
    done = subprocess.run(
        command, cwd=report.parent, env=env, capture_output=True, text=True, timeout=TIME_LIMIT_S, check=False
    )
    elapsed = time.monotonic() - started
    summary: dict[str, Any] = json.loads(report.read_text()) if report.exists() else {}
    output = done.stdout + done.stderr
    return FuzzRun.from_report(summary, done.returncode, output, elapsed, SEED, store)
