"""Loading a banner file: decode TOML or JSON bytes, validate strictly, compile to a :class:`BannerSet`.

Every problem is a :class:`~banners.errors.BannerFileError` whose message names the source, the banner
(by id, or ``#n`` when it has none) and the field path inside it, e.g.::

    banners.toml: banner 'fb-welcome': field 'when.conditions[1].values': unknown tier 'platinum'
    (known: bronze, silver, gold)

(wrapped here; one line in the message).

msgspec's own errors (unknown fields, wrong types, bad date-times) are translated to the same form.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any, Literal

import msgspec

from banners.engine import HOLDOUT, BannerSet, compile_banners
from banners.errors import BannerFileError, TemplateError
from banners.rules import (
    CONDITION_TYPES,
    NONE_TIER,
    AllOf,
    AnyOf,
    Banner,
    BannerFile,
    CartTotalBetween,
    Condition,
    EngagementBetween,
    Not,
    PointsBetween,
    Schedule,
    SegmentIn,
    SlotConfig,
    TierIn,
    amount_minor,
)
from banners.templates import compile_template

Format = Literal["toml", "json"]
Problem = tuple[str, str]
"""A field path and what is wrong with it."""

_JSON = msgspec.json.Decoder(BannerFile)
_AT = re.compile(r"^(?P<detail>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]+)`")
_IN_BANNER = re.compile(r"^\.banners\[(\d+)\]\.?")
_BANNER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_SLOT_NAME = re.compile(r"^[a-z0-9_-]{1,32}$")
_URL_CHARS = r"[^\s\x00-\x1f\x7f]*"
_URL = re.compile(
    rf"^(?:https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{{1,5}})?(?:[/?#]{_URL_CHARS})?|/(?![/\\]){_URL_CHARS})$"
)


class Known(msgspec.Struct, frozen=True):
    """What the shop defines that banner files refer to."""

    tiers: tuple[str, ...]
    segments: tuple[str, ...]
    currency_exponent: int


def load_banners(
    data: bytes,
    *,
    source: str,
    fmt: Format,
    known_tiers: Collection[str],
    known_segments: Collection[str],
    currency_exponent: int = 2,
) -> BannerSet:
    """Decode, validate and compile a banner file.

    Args:
        data: The file's bytes (UTF-8).
        source: The file's name for messages (``banners.toml``).
        fmt: ``toml`` or ``json``; both carry the same schema.
        known_tiers: Tier names ``tier_in`` may use (``none`` is always allowed).
        known_segments: Segment names ``segment_in`` may use.
        currency_exponent: Minor-unit exponent of the shop currency (2 for USD, 0 for JPY).

    Returns:
        The compiled, immutable banner set.

    Raises:
        BannerFileError: Anything wrong with the file; the message names source, banner and field.
    """
    if not 0 <= currency_exponent <= 8:
        raise BannerFileError(source, f"currency exponent {currency_exponent} is outside 0..8")
    file = _decode(data, source, fmt)
    known = Known(tiers=_listing(known_tiers), segments=_listing(known_segments), currency_exponent=currency_exponent)
    check_file(file, source, known)
    return compile_banners(file, currency_exponent=currency_exponent)


def _listing(names: Collection[str]) -> tuple[str, ...]:
    return tuple(names) if isinstance(names, Sequence) else tuple(sorted(names))


def _decode(data: bytes, source: str, fmt: Format) -> BannerFile:
    try:
        return _decode_format(data, source, fmt)
    except RecursionError:  # the decoders give up on nesting deeper than about a thousand levels
        raise BannerFileError(source, "nested too deeply to be a banner file") from None


def _decode_format(data: bytes, source: str, fmt: Format) -> BannerFile:
    if fmt == "json":
        try:
            return _JSON.decode(data)
        except msgspec.ValidationError as error:
            raise _translate(error, _raw_json(data), source) from None
        except msgspec.DecodeError as error:
            raise BannerFileError(source, f"invalid JSON: {error}") from None
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise BannerFileError(source, f"not UTF-8: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise BannerFileError(source, f"invalid TOML: {error}") from None
    try:
        return msgspec.convert(raw, BannerFile)
    except msgspec.ValidationError as error:
        raise _translate(error, raw, source) from None


def _raw_json(data: bytes) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return None


def _translate(error: msgspec.ValidationError, raw: Any, source: str) -> BannerFileError:
    """msgspec's ``Expected `int`, got `str` - at `$.banners[2].priority``` as a located BannerFileError."""
    path, detail = _path_and_detail(str(error), raw)
    in_banner = _IN_BANNER.match(path)
    if not in_banner:
        return BannerFileError(source, detail, field=path.lstrip(".") or None)
    index = int(in_banner[1])
    field = path[in_banner.end() :] or None
    return BannerFileError(source, detail, banner=_raw_id(raw, index), index=index, field=field)


def _path_and_detail(message: str, raw: Any) -> tuple[str, str]:
    """The ``$``-relative path (named fields and slot keys filled in) and the detail, in plain quotes."""
    parts = _AT.match(message)
    detail, path = (parts["detail"], parts["path"] or "") if parts else (message, "")
    named = _NAMED_FIELD.search(detail)
    if named:
        path = f"{path}.{named[1]}"
    if path.startswith(".slots[...]"):
        path = path.replace("[...]", f".{_failing_slot(raw)}", 1)
    detail = re.sub(r"`([^`]*)`", r"'\1'", detail).replace("Object contains ", "").replace("Object missing", "missing")
    if path.endswith(".type") and detail.startswith("Invalid value"):
        detail += f" (known: {', '.join(CONDITION_TYPES)})"
    return path, detail


def _failing_slot(raw: Any) -> str:
    slots = raw.get("slots") if isinstance(raw, dict) else None
    for name, value in (slots or {}).items():
        try:
            msgspec.convert(value, SlotConfig)
        except msgspec.ValidationError:
            return str(name)
    return "..."


def _raw_id(raw: Any, index: int) -> str | None:
    try:
        candidate = raw["banners"][index]["id"]
    except (KeyError, IndexError, TypeError):
        return None
    return candidate if isinstance(candidate, str) and _BANNER_ID.match(candidate) else None


def check_file(file: BannerFile, source: str, known: Known) -> None:
    """Validate what the types alone cannot: names, references, windows, templates, URLs.

    Raises:
        BannerFileError: The first problem found.
    """
    for name in file.slots:
        if not _SLOT_NAME.match(name):
            raise BannerFileError(source, f"bad slot name {name!r} (use a-z, 0-9, _ and -)", field=f"slots.{name}")
    first_index: dict[str, int] = {}
    for index, banner in enumerate(file.banners):
        if banner.id in first_index:
            detail = f"duplicate id (banner #{first_index[banner.id] + 1} has it too)"
            raise BannerFileError(source, detail, banner=banner.id, index=index, field="id")
        first_index[banner.id] = index
        problem = next(banner_problems(banner, known), None)
        if problem is not None:
            raise BannerFileError(source, problem[1], banner=banner.id, index=index, field=problem[0])


def banner_problems(banner: Banner, known: Known) -> Iterator[Problem]:
    """Every problem of one banner, as ``(field path, detail)``."""
    yield from _window_problems("", banner.starts_at, banner.ends_at)
    yield from _url_problems("", banner.link, banner.image)
    yield from _template_problems("", banner.title, banner.text)
    yield from _variant_problems(banner)
    if banner.when is not None:
        yield from condition_problems(banner.when, "when", known)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _window_problems(prefix: str, starts_at: datetime | None, ends_at: datetime | None) -> Iterator[Problem]:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        detail = f"impossible date window: ends_at {ends_at.isoformat()} is not after starts_at {starts_at.isoformat()}"
        yield _join(prefix, "ends_at"), detail


def _url_problems(prefix: str, link: str | None, image: str | None) -> Iterator[Problem]:
    for name, url in (("link", link), ("image", image)):
        if url is not None and not _URL.match(url):
            yield _join(prefix, name), f"bad URL {url!r} (use http:// or https://, or a path starting with /)"


def _template_problems(prefix: str, title: str | None, text: str | None) -> Iterator[Problem]:
    for name, source in (("title", title), ("text", text)):
        if source is None:
            continue
        try:
            compile_template(source)
        except TemplateError as error:
            yield _join(prefix, name), str(error)


def _variant_problems(banner: Banner) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for index, variant in enumerate(banner.variants):
        prefix = f"variants[{index}]"
        if variant.name == HOLDOUT:
            yield f"{prefix}.name", f"the variant name {HOLDOUT!r} is reserved for held-out visitors"
        if variant.name in seen:
            yield (
                f"{prefix}.name",
                f"duplicate variant name {variant.name!r} (variants[{seen[variant.name]}] has it too)",
            )
        seen.setdefault(variant.name, index)
        yield from _url_problems(prefix, variant.link, variant.image)
        yield from _template_problems(prefix, variant.title, variant.text)


def condition_problems(condition: Condition, path: str, known: Known) -> Iterator[Problem]:
    """Every problem of a condition tree, with field paths under ``path`` (``when.conditions[1].values``)."""
    match condition:
        case AllOf(conditions=parts) | AnyOf(conditions=parts):
            for index, part in enumerate(parts):
                yield from condition_problems(part, f"{path}.conditions[{index}]", known)
        case Not(condition=inner):
            yield from condition_problems(inner, f"{path}.condition", known)
        case TierIn(values=values):
            yield from _unknown_names(f"{path}.values", "tier", values, (*known.tiers, NONE_TIER), known.tiers)
        case SegmentIn(values=values):
            yield from _unknown_names(f"{path}.values", "segment", values, known.segments, known.segments)
        case EngagementBetween(min=low, max=high):
            yield from _range_problems(path, low, high)
        case PointsBetween(min=low, max=high):
            yield from _range_problems(path, low, high)
        case CartTotalBetween(min=low, max=high):
            yield from _range_problems(path, low, high)
            yield from _amount_problems(path, low, high, known.currency_exponent)
        case Schedule(starts_at=starts_at, ends_at=ends_at):
            yield from _window_problems(path, starts_at, ends_at)
        case _:
            return


def _unknown_names(
    field: str, kind: str, values: tuple[str, ...], allowed: tuple[str, ...], shown: tuple[str, ...]
) -> Iterator[Problem]:
    for value in values:
        if value not in allowed:
            yield field, f"unknown {kind} {value!r} (known: {', '.join(shown) or 'none'})"


def _range_problems(path: str, low: float | None, high: float | None) -> Iterator[Problem]:
    if low is None and high is None:
        yield path, "give min, max or both"
    elif low is not None and high is not None and high <= low:
        yield f"{path}.max", f"empty range: max {high:g} is not above min {low:g}"


def _amount_problems(path: str, low: float | None, high: float | None, exponent: int) -> Iterator[Problem]:
    for name, amount in (("min", low), ("max", high)):
        if amount is not None and amount_minor(amount, exponent) is None:
            yield f"{path}.{name}", f"amount {amount} has more decimal places than the currency's {exponent}"
