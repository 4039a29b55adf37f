"""The placement registry is the only list of placements: everything that names them derives from it, and every
registered placement answers on every page type."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from personalize.pages import placements
from personalize.pages.placements import REGISTRY, defaults


def test_every_placement_has_a_rank_a_chain_and_a_page() -> None:
    ranks = [placement.fill_rank for placement in REGISTRY]
    assert len(set(ranks)) == len(ranks)
    assert len({placement.name for placement in REGISTRY}) == len(REGISTRY)
    for placement in REGISTRY:
        assert callable(placement.chain), placement.name
        assert placement.pages, placement.name
        assert all(placement.name in defaults(page) for page in placement.pages)
    assert defaults("home") == (placements.HOME_FOR_YOU, placements.HOME_TRENDING)
    assert defaults("checkout") == ()


def test_the_schema_and_the_snippet_list_exactly_the_registry(client: TestClient[Any]) -> None:
    schema = client.get("/schema/openapi.json").json()
    request = schema["components"]["schemas"]["PageRequest"]["properties"]["placements"]
    assert request["items"]["enum"] == list(placements.NAMES)
    served = client.get("/snippet.js").text
    listed = re.search(r"var KNOWN_PLACEMENTS = (\[[^\]]*\]);", served)
    assert listed is not None
    assert listed.group(1) == "[" + ",".join(f'"{name}"' for name in placements.NAMES) + "]"


@pytest.mark.parametrize("page", ["home", "category", "product", "cart", "checkout", "search", "other"])
def test_every_registered_placement_answers_on_every_page_type(client: TestClient[Any], page: str) -> None:
    info: dict[str, Any] = {"type": page, "category": "women/dresses", "item_id": "i0001",
                            "cart": [{"item_id": "i0002", "quantity": 1}]}  # fmt: skip
    body = {"session_id": "s-registry", "page": info, "placements": list(placements.NAMES), "limit": 3}
    answer = client.post("/v1/page", json=body)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()["recommendations"]) == set(placements.NAMES)
