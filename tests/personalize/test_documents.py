"""Versioned documents of the store (banner rules, the loyalty program, experiments): another process's upload is
swapped in by a refresh; a stored file that no longer validates here is skipped and the running one stays."""

from __future__ import annotations

import msgspec
import pytest

from personalize.experiments.live import LiveExperiments
from personalize.pages.banner_rules import BannerRules
from personalize.settings import load_settings
from personalize.store import open_store, tracking_config
from personalize.store.documents import FileDocument
from personalize.store.protocols import Store

pytestmark = pytest.mark.anyio
BANNER = '[[banners]]\nid = "hello"\nslot = "hero"\ntitle = "Hello"\ntext = "Hi"\n'
EXPERIMENT = """
[[experiments]]
id = "holdout"
changes = "personalization"
start = 2020-01-01T00:00:00Z
arms = [{name = "control", weight = 50, enabled = false}, {name = "personal", weight = 50}]
"""


async def stored_by_another(store: Store, name: str, content: str) -> None:
    await store.config.put(name, msgspec.msgpack.encode(FileDocument("toml", content)))


async def test_a_refresh_swaps_in_another_processs_upload_and_skips_one_that_does_not_validate() -> None:
    settings = load_settings({})
    store = open_store("memory://", tracking_config(settings))
    rules = BannerRules(settings)
    experiments = LiveExperiments(rules)
    await stored_by_another(store, "banners", BANNER)
    await stored_by_another(store, "experiments", EXPERIMENT)
    await rules.refresh(store)
    await experiments.refresh(store)
    assert (rules.version, rules.compiled.ids) == (1, ("hello",))
    assert (experiments.version, [e.id for e in experiments.defined.experiments]) == (1, ["holdout"])
    await stored_by_another(store, "banners", BANNER.replace('slot = "hero"', 'slot = "hero"\nnope = 1'))
    await stored_by_another(store, "experiments", EXPERIMENT.replace("weight = 50}]", "weight = 40}]"))
    await rules.refresh(store)
    await experiments.refresh(store)
    assert (rules.version, rules.compiled.ids) == (2, ("hello",))  # version 2 was read once, not run
    assert rules.document == FileDocument("toml", BANNER)
    assert (experiments.version, [e.id for e in experiments.defined.experiments]) == (2, ["holdout"])
    treated = experiments.treatment(page_type="home", placements=(), customer_id=None, session_id="s", now_ms=2**41)
    assert [exposure.experiment_id for exposure in treated.exposures] == ["holdout"]  # the running one serves on
