"""``/v1/admin/campaigns`` on both stores: definitions uploaded and answered with their defaults, and refused with
422 naming the field (an unknown segment, tier or subject token, overlapping offer bands, a trigger without its
field), the previous ones serving on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from personalize.campaigns.definitions import CampaignFile
from personalize.store.documents import FileDocument
from tests.api.conftest import AUTH

TOML = {**AUTH, "content-type": "application/toml"}
LOYAL = """
[[campaigns]]
id = "loyal"
subject = "{first_name}, {discount_pct}% off for you: {code}"
holdout_pct = 10
audience = { segments = ["champions", "loyal_customers"], tiers = ["gold", "silver"] }
offers = [{min_score = 300, discount_pct = 20}, {min_score = 150, max_score = 300, discount_pct = 15}]
trigger = { type = "once", at = 2026-12-24T09:00:00Z }
"""


def upload(client: TestClient[Any], text: str) -> httpx.Response:
    return client.put("/v1/admin/campaigns", content=text.encode(), headers=TOML)


def test_definitions_upload_and_answer_with_their_defaults(client: TestClient[Any]) -> None:
    assert client.get("/v1/admin/campaigns", headers=AUTH).json()["version"] == 0
    answer = upload(client, LOYAL)
    assert answer.status_code == 200, answer.text
    body = client.get("/v1/admin/campaigns", headers=AUTH).json()
    assert (body["version"], body["format"], body["content"]) == (1, "toml", LOYAL)
    campaign = body["campaigns"][0]
    assert (campaign["code_valid_hours"], campaign["picks"], campaign["holdout_pct"]) == (48, 4, 10.0)
    assert campaign["trigger"] == {"type": "once", "at": "2026-12-24T09:00:00Z", "every_hours": None, "event": None}
    live = client.app.state.runtime.campaigns.by_id("loyal")
    offers = [live.offer_for(score) for score in (100, 150, 299.9, 300, 10_000)]
    assert [offer.discount_pct if offer else None for offer in offers] == [None, 15, 15, 20, 20]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (('"loyal_customers"', '"whales"'), "campaigns[0].audience.segments[1]", "'whales' is not a segment"),
        (('"gold", "silver"', '"platinum"'), "campaigns[0].audience.tiers[0]", "'platinum' is not a tier"),
        (("{code}", "{coupon}"), "campaigns[0].subject", "unknown template token {coupon}"),
        (("min_score = 150, max_score = 300", "min_score = 150, max_score = 301"), "campaigns[0].offers[0]", "overlap"),
        (("min_score = 150, max_score = 300", "min_score = 150"), "campaigns[0].offers[0]", "overlap"),
        (("max_score = 300", "max_score = 100"), "campaigns[0].offers[1]", "not above min_score"),
        (('type = "once"', 'type = "schedule"'), "campaigns[0].trigger.every_hours", "names its every_hours"),
        (('type = "once"', 'type = "weekly"'), "campaigns[0].trigger.type", "'once', 'schedule', 'event'"),
        (("holdout_pct = 10", "holdout_pct = 100"), "campaigns[0].holdout_pct", "100"),
        (('subject = "', 'sender = "x"\nsubject = "'), "campaigns[0].sender", "unknown field"),
        (('id = "loyal"', 'id = "Loyal!"'), "campaigns[0].id", "matching regex"),
    ],
)
def test_bad_definitions_are_refused_naming_the_field_and_the_previous_serve_on(
    client: TestClient[Any], change: tuple[str, str], field: str, words: str
) -> None:
    assert upload(client, LOYAL).status_code == 200
    answer = upload(client, LOYAL.replace(*change))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("invalid_campaigns", field)
    assert words in error["message"]
    assert client.get("/v1/admin/campaigns", headers=AUTH).json()["content"] == LOYAL


def test_a_file_that_is_not_toml_and_a_duplicate_id_are_refused(client: TestClient[Any]) -> None:
    assert upload(client, "[[campaigns]\n").json()["error"]["field"] == "campaigns"
    twice = upload(client, LOYAL + LOYAL.replace("[[campaigns]]", "[[campaigns]]", 1))
    assert twice.json()["error"]["field"] == "campaigns[1].id"


def test_a_holdout_share_is_an_experiment_of_the_campaign_kind(client: TestClient[Any]) -> None:
    runtime = client.app.state.runtime
    parsed: CampaignFile = runtime.campaigns.parse(FileDocument("toml", LOYAL))
    start = datetime(2026, 12, 24, 9, tzinfo=UTC)
    holdout = parsed.campaigns[0].holdout(start)
    assert holdout is not None
    assert (holdout.id, holdout.changes, holdout.campaign) == ("campaign:loyal", "campaign", "loyal")
    assert [(arm.name, arm.weight, arm.enabled) for arm in holdout.arms] == [
        ("holdout", 10, False),
        ("treated", 90, True),
    ]
