"""The trained models a server process serves: the newest complete artifact of ``models_dir``.

Loading never happens on the request path: at start, and on ``POST /v1/admin/models/reload``, a new
:class:`ModelSet` is built beside the old one and swapped in with one assignment, so requests in flight
finish on the set they started with.
"""

from __future__ import annotations

import logging
from pathlib import Path

from personalize.models.training import Manifest, read_manifest, versions
from recommenders.collaborative import TopLists
from recommenders.rules import AssociationRules
from recommenders.sessions import SessionRecommender

log = logging.getLogger("personalize.models")


class ModelSet:
    """One artifact's models; any part may be missing, and placements fall back past it."""

    def __init__(
        self,
        manifest: Manifest,
        collaborative: TopLists | None,
        sessions: SessionRecommender | None,
        rules: AssociationRules | None,
    ) -> None:
        self.manifest = manifest
        self.collaborative = collaborative
        self.sessions = sessions
        self.rules = rules

    @property
    def version(self) -> str:
        """The artifact's version (its directory name)."""
        return self.manifest.version


def load_newest(models_dir: Path) -> ModelSet | None:
    """The newest artifact under ``models_dir``, or ``None`` when there is none."""
    found = versions(models_dir)
    return load(found[-1]) if found else None


def load(path: Path) -> ModelSet:
    """Every model of one artifact directory; a missing file leaves that part out (and is logged)."""
    manifest = read_manifest(path)
    collaborative = TopLists.load(path / "collaborative.npz") if (path / "collaborative.npz").exists() else None
    similar = collaborative.similar_items if collaborative else None
    sessions = (
        SessionRecommender.load(path / "sessions.npz", similar=similar) if (path / "sessions.npz").exists() else None
    )
    rules = AssociationRules.load(path / "rules.npz") if (path / "rules.npz").exists() else None
    missing = [
        name
        for name, part in (("collaborative", collaborative), ("sessions", sessions), ("rules", rules))
        if part is None
    ]
    if missing:
        log.warning("model artifact %s lacks %s; those placements fall back", manifest.version, ", ".join(missing))
    log.info("models %s loaded (collaborative: %s)", manifest.version, manifest.collaborative)
    return ModelSet(manifest, collaborative, sessions, rules)
