"""``personalize experiments report`` on a shared store: the same report as the API, as JSON or a table; an unknown
experiment or a memory store is refused, saying why."""

from __future__ import annotations

import json

import pytest

from loadtests.experiment_sim import simulate
from personalize.cli import main


def test_the_report_of_a_redis_store_as_json_and_as_a_table(redis_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    outcome = simulate(redis_url, "redis", 2_000, 3)
    capsys.readouterr()
    assert main(["experiments", "report", "sim", "--store", redis_url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {arm["name"]: arm["units"] for arm in report["arms"]} == {arm.name: arm.units for arm in outcome.report.arms}
    assert {arm["name"]: arm["orders"] for arm in report["arms"]} == outcome.orders
    assert main(["experiments", "report", "sim", "--store", redis_url, "--cuped"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("experiment sim (personalization, running; unit session; money in USD)")
    assert f"personal (weight 50): {outcome.report.arms[1].units} units, {outcome.orders['personal']} orders" in text
    assert "average_order_value" in text


def test_an_unknown_experiment_and_a_memory_store_are_refused(
    redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["experiments", "report", "nope", "--store", redis_url]) == 1
    assert "no experiment 'nope' (defined: none)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["experiments", "report", "sim", "--store", "memory://"])
    assert stopped.value.code == 2
    assert "a memory store lives inside its server" in capsys.readouterr().err
