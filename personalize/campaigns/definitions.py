"""Campaign definitions: the strict file a marketer uploads (``PUT /v1/admin/campaigns``), checked whole.

A campaign names its **audience** (customers with e-mail consent, never an erased one, narrowed by RFM segment,
tier, engagement-score band, win-back stage, points expiring within some days, a birthday within some days and
record fields), its **offer ladder** (engagement-score bands, each with a discount; a recipient in no band gets no
code), how long a code is valid, how many personal **picks** each message carries, the **holdout** share that gets
nothing (an experiment of the ``campaign`` kind, ``campaign:<id>``), the e-mail's subject, and its **trigger**: once,
on a schedule, or on an outbox event.

Refused with 422 ``invalid_campaigns`` naming the field: an unknown segment or tier, a subject token that is not a
campaign token, offer bands that overlap or are empty, an engagement band whose ``min`` is not below its ``max``, a
trigger without the field its type needs, a duplicate id.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from personalize.clock import check_time
from personalize.errors import Refused
from personalize.experiments.definitions import Arm, Experiment
from personalize.store.documents import FileDocument, decode_file

INVALID = "invalid_campaigns"
"""The error code of a campaigns file a rule refuses (422)."""
PREFIX = "campaign:"
"""The id of a campaign's holdout experiment is this and the campaign's id."""
TOKENS = frozenset({"first_name", "code", "discount_pct", "expires_at", "points", "tier"})
"""What a campaign's subject (and, with the e-mail issue's templates, its body) may name as ``{token}``."""
Event = Literal["tier_changed", "winback_stage", "birthday", "points_expiring"]
CampaignId = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Score = Annotated[float, Meta(ge=0)]
_TOKEN = re.compile(r"\{([^{}]*)\}")
_CHOICES = {"type": ("once", "schedule", "event"), "event": ("tier_changed", "winback_stage", "birthday",
            "points_expiring")}  # fmt: skip


class Band(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A score band: ``min`` inclusive, ``max`` exclusive (none: no bound)."""

    min: Score | None = None
    max: Score | None = None


class Audience(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who may receive the campaign; every condition given must hold (empty lists: no condition). Only customers
    with ``email_consent`` are ever in an audience."""

    segments: list[Annotated[str, Meta(max_length=64)]] = msgspec.field(default_factory=list)
    tiers: list[Annotated[str, Meta(max_length=64)]] = msgspec.field(default_factory=list)
    """Tier names; ``none`` is a customer without a tier."""
    engagement: Band | None = None
    winback_stages: list[Annotated[int, Meta(ge=1, le=3)]] = msgspec.field(default_factory=list)
    points_expiring_days: Annotated[int, Meta(ge=1, le=365)] | None = None
    """Customers with points expiring within this many days."""
    birthday_within_days: Annotated[int, Meta(ge=0, le=31)] | None = None
    """Customers whose birthday (``MM-DD`` of their record) falls within this many days (0: today)."""
    countries: list[Annotated[str, Meta(pattern=r"^[A-Z]{2}$")]] = msgspec.field(default_factory=list)
    locales: list[Annotated[str, Meta(min_length=2, max_length=35)]] = msgspec.field(default_factory=list)
    """Locale prefixes of the customer's record (``en`` matches ``en-US``)."""


class Offer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A rung of the ladder: customers whose engagement score is in the band get a code for this discount."""

    min_score: Score
    max_score: Score | None = None
    discount_pct: Annotated[float, Meta(gt=0, le=100)]


class Trigger(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When the campaign runs: ``once`` (at ``at``, or when run by hand), every ``every_hours`` from ``at``
    (``schedule``), or for each customer an outbox ``event`` concerns (``event``)."""

    type: Literal["once", "schedule", "event"] = "once"
    at: datetime | None = None
    every_hours: Annotated[int, Meta(ge=1, le=8760)] | None = None
    event: Event | None = None


class Campaign(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One campaign of the file (see the module docstring)."""

    id: CampaignId
    description: Annotated[str, Meta(max_length=500)] = ""
    subject: Annotated[str, Meta(min_length=1, max_length=200)]
    audience: Audience = msgspec.field(default_factory=Audience)
    offers: Annotated[list[Offer], Meta(max_length=10)] = msgspec.field(default_factory=list)
    code_valid_hours: Annotated[int, Meta(ge=1, le=8760)] = 48
    picks: Annotated[int, Meta(ge=0, le=12)] = 4
    holdout_pct: Annotated[float, Meta(ge=0, lt=100)] = 0.0
    trigger: Trigger = msgspec.field(default_factory=Trigger)

    def offer_for(self, score: float) -> Offer | None:
        """The ladder's rung for an engagement score (none: no code)."""
        return next((o for o in self.offers if o.min_score <= score and (o.max_score is None or score < o.max_score)),
                    None)  # fmt: skip

    def holdout(self, start: datetime) -> Experiment | None:
        """The campaign's holdout as an experiment of the ``campaign`` kind (none without a holdout share)."""
        if not self.holdout_pct:
            return None
        arms = [Arm(name="holdout", weight=self.holdout_pct, enabled=False),
                Arm(name="treated", weight=100 - self.holdout_pct)]  # fmt: skip
        return Experiment(id=PREFIX + self.id, changes="campaign", campaign=self.id, arms=arms, start=start)


class CampaignFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole file."""

    campaigns: Annotated[list[Campaign], Meta(max_length=200)] = msgspec.field(default_factory=list)


def parse_campaigns(document: FileDocument, *, segments: Collection[str], tiers: Collection[str]) -> CampaignFile:
    """The campaigns a TOML or JSON file defines, checked whole against the shop's segment and tier names; raises
    :class:`Refused` (``invalid_campaigns``) naming the field (``campaigns[0].offers[1]``)."""
    parsed = decode_file(document, CampaignFile, root="campaigns", code=INVALID, choices=_CHOICES)
    seen: set[str] = set()
    for index, campaign in enumerate(parsed.campaigns):
        at = f"campaigns[{index}]"
        if campaign.id in seen:
            raise _refuse(f"{at}.id", f"{campaign.id!r} is defined twice")
        seen.add(campaign.id)
        _check_audience(campaign.audience, f"{at}.audience", segments, tiers)
        _check_offers(campaign.offers, f"{at}.offers")
        _check_trigger(campaign.trigger, f"{at}.trigger")
        unknown = sorted({token for token in _TOKEN.findall(campaign.subject) if token not in TOKENS})
        if unknown:
            raise _refuse(f"{at}.subject", f"unknown template token {{{unknown[0]}}} (known: {sorted(TOKENS)})")
    return parsed


def _check_audience(audience: Audience, at: str, segments: Collection[str], tiers: Collection[str]) -> None:
    for field, named, known in (("segments", audience.segments, segments), ("tiers", audience.tiers, tiers)):
        for index, name in enumerate(named):
            if name not in known:
                raise _refuse(f"{at}.{field}[{index}]", f"{name!r} is not a {field[:-1]} (one of {sorted(known)})")
    band = audience.engagement
    if band is not None and band.min is not None and band.max is not None and band.min >= band.max:
        raise _refuse(f"{at}.engagement", f"min {band.min:g} is not below max {band.max:g}")


def _check_offers(offers: list[Offer], at: str) -> None:
    for index, offer in enumerate(offers):
        if offer.max_score is not None and offer.max_score <= offer.min_score:
            raise _refuse(f"{at}[{index}]", f"max_score {offer.max_score:g} is not above min_score {offer.min_score:g}")
    ordered = sorted(enumerate(offers), key=lambda pair: pair[1].min_score)
    for (_, lower), (index, upper) in itertools.pairwise(ordered):
        if lower.max_score is None or lower.max_score > upper.min_score:
            top = "no upper bound" if lower.max_score is None else f"max_score {lower.max_score:g}"
            raise _refuse(f"{at}[{index}]", f"its band from {upper.min_score:g} overlaps one from "
                          f"{lower.min_score:g} ({top}): bands must not overlap")  # fmt: skip


def _check_trigger(trigger: Trigger, at: str) -> None:
    needs = {"schedule": "every_hours", "event": "event"}.get(trigger.type)
    for field in ("every_hours", "event"):
        given = getattr(trigger, field) is not None
        if field == needs and not given:
            raise _refuse(f"{at}.{field}", f"a {trigger.type} trigger names its {field}")
        if given and field != needs:
            kind = "schedule" if field == "every_hours" else "event"
            raise _refuse(f"{at}.{field}", f"{field} applies to a {kind} trigger, not to {trigger.type!r}")
    if trigger.at is not None:
        try:
            check_time(trigger.at, "at")
        except ValueError as exc:
            raise _refuse(f"{at}.at", str(exc)) from None


def _refuse(field: str, message: str) -> Refused:
    return Refused(f"{field}: {message}", field, code=INVALID)
