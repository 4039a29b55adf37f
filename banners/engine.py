"""The matching engine: compiled banners, an index by page type, and the choice for one page view.

Everything costly happens once, in :func:`compile_banners`: conditions become closures
(:mod:`banners.predicates`), templates are compiled, and banners are indexed by page type — a banner whose
condition is (or is an ``all`` containing) a ``page_type`` condition is listed only under those page
types, so a page call never looks at banners meant for other pages. Within a slot, banners are tried in
priority order (higher first, then id) and the slot stops as soon as it holds its maximum. A held-out
banner does not take a place: the slot falls through to the next banner, which is what the held-out
visitor would see without the banner.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from banners.assignment import cumulative_weights, holdout_cut, is_held_out, variant_index
from banners.context import BannerContext
from banners.predicates import Predicate, always, compile_condition, page_types_of, window_ms
from banners.rules import PAGE_TYPES, Banner, BannerFile
from banners.templates import Template, TemplateValues, compile_template

CONTROL = "control"
"""The arm of a banner shown without variants."""
HOLDOUT = "holdout"
"""The arm of a visitor held out of a banner."""


class Chosen(msgspec.Struct, frozen=True, kw_only=True):
    """A banner to show, rendered; ``arm`` is ``control``, or the variant name for a banner with variants."""

    id: str
    slot: str
    title: str
    text: str
    link: str | None
    image: str | None
    coupon_code: str | None
    """The code the banner offers: the one its templates showed, else the banner's static code."""
    arm: str


class HeldOut(msgspec.Struct, frozen=True, kw_only=True):
    """A banner the visitor would have seen but is held out of; count it as an exposure of arm ``holdout``."""

    id: str
    slot: str
    arm: str = HOLDOUT


class Choice(msgspec.Struct, frozen=True, kw_only=True):
    """What a page shows (``shown``: by slot name, then priority) and the holdout exposures it withheld."""

    shown: list[Chosen]
    held_out: list[HeldOut]

    def exposures(self) -> list[tuple[str, str]]:
        """Every ``(banner_id, arm)`` exposure of this page view, held-out ones included."""
        return [(c.id, c.arm) for c in self.shown] + [(h.id, h.arm) for h in self.held_out]


class Arm(msgspec.Struct, frozen=True, kw_only=True):
    """What one arm of a banner shows: the banner's own fields with a variant's overrides applied."""

    name: str
    title: Template
    text: Template
    link: str | None
    image: str | None

    @property
    def uses_coupon_code(self) -> bool:
        return "coupon_code" in self.title.tokens or "coupon_code" in self.text.tokens


class CompiledBanner(msgspec.Struct, frozen=True, kw_only=True):
    """A banner ready to match: its predicate, window, arms and assignment constants."""

    id: str
    slot: str
    priority: int
    coupon_code: str | None
    starts_ms: int
    ends_ms: int
    holdout_cut: int
    arms: tuple[Arm, ...]
    cumulative: tuple[float, ...]
    predicate: Predicate

    def decide(self, context: BannerContext, values: Mapping[str, str | None]) -> Chosen | HeldOut | None:
        """Chosen or held out when the banner matches and renders for this visitor, else None."""
        if not (self.starts_ms <= context.now_ms < self.ends_ms and self.predicate(context)):
            return None
        arm = self.arms[variant_index(self.id, context.subject, self.cumulative)]
        if self.coupon_code is not None and values["coupon_code"] is None:
            values = {**values, "coupon_code": self.coupon_code}
        title, text = arm.title.render(values), arm.text.render(values)
        if title is None or text is None:
            return None
        if is_held_out(self.id, context.subject, self.holdout_cut):
            return HeldOut(id=self.id, slot=self.slot)
        code = values["coupon_code"] if arm.uses_coupon_code else self.coupon_code
        return Chosen(
            id=self.id,
            slot=self.slot,
            title=title,
            text=text,
            link=arm.link,
            image=arm.image,
            coupon_code=code,
            arm=arm.name,
        )


class SlotGroup(msgspec.Struct, frozen=True):
    """A slot's candidate banners for one page type, in the order they are tried."""

    slot: str
    max: int
    banners: tuple[CompiledBanner, ...]


class BannerSet(msgspec.Struct, frozen=True, kw_only=True):
    """A loaded, validated and compiled banner file; immutable and safe to share between requests."""

    version: str | None
    banners: tuple[CompiledBanner, ...]
    index: dict[str, tuple[SlotGroup, ...]]
    """Page type to the slots and candidate banners considered on it."""
    unrestricted: tuple[SlotGroup, ...]
    """Candidates for a page type outside :data:`~banners.rules.PAGE_TYPES`."""

    def choose(self, context: BannerContext, values: TemplateValues, *, evaluated: list[str] | None = None) -> Choice:
        """The banners this page view shows, per slot by priority, and the holdout exposures.

        Args:
            context: The page view.
            values: What templates may show for this visitor.
            evaluated: When given, the id of every banner whose condition was tried is appended (for tests).
        """
        lookup = values.lookup()
        shown: list[Chosen] = []
        held_out: list[HeldOut] = []
        for group in self.index.get(context.page_type, self.unrestricted):
            _fill_slot(group, context, lookup, shown, held_out, evaluated)
        return Choice(shown=shown, held_out=held_out)

    def index_size(self, page_type: str) -> int:
        """How many banners a call for this page type may consider."""
        groups = self.index.get(page_type, self.unrestricted)
        return sum(len(group.banners) for group in groups)

    @property
    def ids(self) -> tuple[str, ...]:
        """Every banner id, in file order."""
        return tuple(banner.id for banner in self.banners)


def _fill_slot(
    group: SlotGroup,
    context: BannerContext,
    lookup: Mapping[str, str | None],
    shown: list[Chosen],
    held_out: list[HeldOut],
    evaluated: list[str] | None,
) -> None:
    placed = 0
    for banner in group.banners:
        if placed >= group.max:
            return
        if evaluated is not None:
            evaluated.append(banner.id)
        outcome = banner.decide(context, lookup)
        if isinstance(outcome, Chosen):
            shown.append(outcome)
            placed += 1
        elif outcome is not None:
            held_out.append(outcome)


def compile_banners(file: BannerFile, *, currency_exponent: int = 2) -> BannerSet:
    """Compile a validated banner file (see :func:`banners.files.load_banners`, which calls this).

    Args:
        file: The decoded file; validation must already have passed.
        currency_exponent: Minor-unit exponent of the shop currency, for ``cart_total`` amounts.
    """
    compiled = tuple(_compile_banner(banner, currency_exponent) for banner in file.banners)
    maxima = {name: slot.max for name, slot in file.slots.items()}
    pages = {banner.id: page_types_of(banner.when) for banner in file.banners}
    index: dict[str, tuple[SlotGroup, ...]] = {
        page: _groups([b for b in compiled if _shown_on(pages[b.id], page)], maxima) for page in PAGE_TYPES
    }
    unrestricted = _groups([b for b in compiled if pages[b.id] is None], maxima)
    return BannerSet(version=file.version, banners=compiled, index=index, unrestricted=unrestricted)


def _shown_on(pages: frozenset[str] | None, page: str) -> bool:
    return pages is None or page in pages


def _groups(banners: list[CompiledBanner], maxima: Mapping[str, int]) -> tuple[SlotGroup, ...]:
    by_slot: dict[str, list[CompiledBanner]] = {}
    for banner in sorted(banners, key=lambda b: (-b.priority, b.id)):
        by_slot.setdefault(banner.slot, []).append(banner)
    return tuple(SlotGroup(slot, maxima.get(slot, 1), tuple(by_slot[slot])) for slot in sorted(by_slot))


def _compile_banner(banner: Banner, exponent: int) -> CompiledBanner:
    starts_ms, ends_ms = window_ms(banner.starts_at, banner.ends_at)
    arms = _arms(banner)
    weights = tuple(variant.weight for variant in banner.variants) or (1.0,)
    return CompiledBanner(
        id=banner.id,
        slot=banner.slot,
        priority=banner.priority,
        coupon_code=banner.coupon_code,
        starts_ms=starts_ms,
        ends_ms=ends_ms,
        holdout_cut=holdout_cut(banner.holdout_pct),
        arms=arms,
        cumulative=cumulative_weights(weights),
        predicate=always if banner.when is None else compile_condition(banner.when, exponent),
    )


def _arms(banner: Banner) -> tuple[Arm, ...]:
    title, text = compile_template(banner.title), compile_template(banner.text)
    if not banner.variants:
        return (Arm(name=CONTROL, title=title, text=text, link=banner.link, image=banner.image),)
    return tuple(
        Arm(
            name=variant.name,
            title=title if variant.title is None else compile_template(variant.title),
            text=text if variant.text is None else compile_template(variant.text),
            link=banner.link if variant.link is None else variant.link,
            image=banner.image if variant.image is None else variant.image,
        )
        for variant in banner.variants
    )
