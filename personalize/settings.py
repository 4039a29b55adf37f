"""Typed settings tree, read from ``PZ_*`` environment variables and an optional TOML file.

Precedence: built-in defaults < the TOML file named by ``PZ_CONFIG`` < environment variables.
A nested key is spelled with a double underscore in the environment:
``[tracking] session_half_life_minutes = 30`` is ``PZ_TRACKING__SESSION_HALF_LIFE_MINUTES=30``.
Every value is validated at start; a bad one raises :class:`SettingsError` naming the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from loyalty_nudges.program import LoyaltyProgram
from loyalty_nudges.segments import DEFAULT_RULES, SegmentPolicy, SegmentRule, validate_rules
from personalize import money

STORE_SCHEMES = {"memory": False, "redis": True, "rediss": True}
"""The kinds of store ``store_url`` may name, and whether each is shared by processes and hosts."""
PositiveFloat = Annotated[float, Meta(gt=0)]
Weight = Annotated[float, Meta(ge=-1000, le=1000)]

# Variables that share the prefix but are read by the test suite and CI, not by the server.
_NOT_SETTINGS = frozenset({"PZ_CONFIG", "PZ_REQUIRE_REDIS", "PZ_REQUIRE_BROWSER", "PZ_REQUIRE_DATASETS"})


class SettingsError(ValueError):
    """A setting is missing, unknown or out of range; the message names the key."""


class TrackingSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Affinity profiles (DOMAIN.md, "Affinity and ranking")."""

    session_half_life_minutes: PositiveFloat = 45.0
    """Half-life of a session's intent scores."""
    customer_half_life_days: PositiveFloat = 30.0
    """Half-life of a signed-in customer's long-term profile."""
    customer_profile_weight: Annotated[float, Meta(ge=0, le=10)] = 0.5
    """How much of the long-term customer profile is added to a session's own scores."""
    weights: dict[str, Weight] = msgspec.field(
        default_factory=lambda: {"product_view": 1.0, "click": 2.0, "add_to_cart": 5.0, "purchase": 10.0}
    )
    """Affinity weight per event type; types not listed add nothing."""
    session_ttl_hours: PositiveFloat = 24.0
    """A session profile is deleted this long after its last event."""
    customer_ttl_days: PositiveFloat = 400.0
    """A customer profile is deleted this long after its last event."""
    dedup_hours: PositiveFloat = 24.0
    """How long an ``event_id`` is remembered for de-duplication."""
    max_events_per_call: Annotated[int, Meta(ge=1, le=5000)] = 500
    """Largest batch ``POST /v1/events`` accepts."""
    recent_items: Annotated[int, Meta(ge=1, le=200)] = 20
    """How many of a session's latest viewed, clicked or carted items are kept for session-based recommendations."""
    log_length: Annotated[int, Meta(ge=0, le=100_000_000)] = 1_000_000
    """Events kept in the store's interaction log for ``personalize train --store`` (0 keeps none)."""
    max_sessions: Annotated[int, Meta(ge=100, le=100_000_000)] = 200_000
    """Sessions the store keeps; beyond it the least recently active are dropped (with their event ids). A session
    costs about 1–2 KB; raise it on Redis for a shop with more sessions within ``session_ttl_hours``."""
    max_event_ids_per_session: Annotated[int, Meta(ge=1, le=100_000)] = 1000
    """Event ids remembered per session for de-duplication; the oldest are forgotten first."""
    max_event_ids: Annotated[int, Meta(ge=1000, le=1_000_000_000)] = 2_000_000
    """Event ids the memory store remembers in all (least recently active sessions forgotten first). On Redis the
    bound is ``max_sessions`` × ``max_event_ids_per_session``, within Redis' own ``maxmemory``."""

    def __post_init__(self) -> None:
        if self.max_event_ids_per_session < self.max_events_per_call:
            raise ValueError(
                f"max_event_ids_per_session {self.max_event_ids_per_session} must be at least max_events_per_call "
                f"{self.max_events_per_call}, or a resent batch would count twice"
            )


class TrendingSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Wisdom-of-the-crowd counts (DOMAIN.md: H about 24 h, weights 1 / 3 / 10, a floor)."""

    half_life_hours: PositiveFloat = 24.0
    """Half-life of the decayed counts."""
    weights: dict[str, Weight] = msgspec.field(
        default_factory=lambda: {"product_view": 1.0, "add_to_cart": 3.0, "purchase": 10.0}
    )
    """Trending weight per event type; types not listed add nothing."""
    min_score: Annotated[float, Meta(ge=0)] = 2.0
    """An item needs at least this decayed weighted count to be listed, so one view cannot top a list."""
    cache_seconds: Annotated[float, Meta(ge=0, le=60)] = 1.0
    """How long a process reuses a fetched trending list (0 fetches on every page call)."""
    cache_size: Annotated[int, Meta(ge=10, le=5000)] = 300
    """How many items of each trending list a process fetches and keeps."""


class LimitSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Rate limits of the browser routes (``/v1/page``, ``/v1/events``), per server process; 0 turns one off.
    Calls with the server-to-server key are not limited."""

    ip_per_second: Annotated[float, Meta(ge=0)] = 50.0
    """Sustained requests per second from one client address."""
    ip_burst: Annotated[int, Meta(ge=1)] = 200
    """Requests one client address may send at once before the rate applies."""
    session_per_second: Annotated[float, Meta(ge=0)] = 10.0
    """Sustained requests per second of one session."""
    session_burst: Annotated[int, Meta(ge=1)] = 40
    """Requests one session may send at once before the rate applies."""
    client_ip_header: str = ""
    """Header your proxy or CDN puts the client address in (e.g. ``X-Forwarded-For``, its last hop is taken);
    empty uses the connection's peer. Set it only behind a proxy that sets it, or clients could forge it."""
    max_keys: Annotated[int, Meta(ge=100)] = 100_000
    """Buckets kept per limiter (least recently used dropped first)."""


def _complements() -> dict[str, list[str]]:
    return {
        "dresses": ["shoes", "bags", "jewellery", "accessories"],
        "tops": ["trousers", "shoes", "bags", "accessories"],
        "trousers": ["tops", "shoes", "bags", "accessories"],
        "shoes": ["bags", "accessories", "jewellery"],
        "bags": ["shoes", "accessories", "jewellery"],
        "jewellery": ["accessories", "bags"],
        "accessories": ["bags", "jewellery", "shoes"],
    }


class RecommendationSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Placements, category ranking and cross-sell (DOMAIN.md, "Recommendations" and "Affinity and ranking")."""

    alpha_max: Annotated[float, Meta(ge=0, le=1)] = 0.6
    """Largest share of affinity in the category ranking blend."""
    alpha_k: PositiveFloat = 5.0
    """Weighted events at which affinity reaches half of ``alpha_max``."""
    max_brand_run: Annotated[int, Meta(ge=1, le=50)] = 2
    """At most this many consecutive items of one brand at the top of a category page."""
    attribute_weights: dict[str, Weight] = msgspec.field(
        default_factory=lambda: {"brand": 1.0, "color": 0.6, "price_band": 0.4}
    )
    """Weight of each attribute's affinity when scoring an item for a visitor."""
    ranking_candidates: Annotated[int, Meta(ge=10, le=5000)] = 400
    """Items of a category considered for ranking: its trending head, the visitor's brands, its newest."""
    session_min_items: Annotated[int, Meta(ge=1, le=20)] = 2
    """Distinct recent items a session needs before the home page's personal row is served from it."""
    complements: dict[str, list[str]] = msgspec.field(default_factory=_complements)
    """Complete the look: for an item in ``<root>/<leaf>``, the leaves under the same root that complete it."""
    brand_share: Annotated[float, Meta(gt=0, le=1)] = 0.375
    """Most of a product page's similar and complete-the-look rows from one brand (3 of 8 by default) while other
    brands can fill them."""
    loyal_brand_share: Annotated[float, Meta(gt=0, le=1)] = 0.5
    """A visitor whose top brand holds this share of their brand affinity is loyal to it: rows let it past the cap."""
    loyal_brand_events: Annotated[float, Meta(ge=0)] = 3.0
    """Weighted events a visitor needs before any brand counts as theirs."""
    similar_price_ratio: Annotated[float, Meta(ge=1.1, le=100)] = 2.0
    """Similar items are priced within this factor of the anchor's (half to double by default) before the row is
    completed with the items nearest in price."""


class SegmentSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """RFM segmentation (DOMAIN.md "Segments"): the named map marketers may edit, and how often it runs."""

    rules: tuple[SegmentRule, ...] = DEFAULT_RULES
    """Named segments by regex over the two-digit R,F code; the first match wins."""
    policy: SegmentPolicy = msgspec.field(default_factory=SegmentPolicy)
    """Win-back multiples and store-gap fallbacks, price-sensitivity weights."""
    every_hours: Annotated[float, Meta(ge=0, le=24 * 31)] = 24.0
    """How often a server recomputes segments (one process of many does it); 0 turns the job off."""

    def __post_init__(self) -> None:
        validate_rules(self.rules)


class OutboxSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The loyalty outbox (``GET /v1/admin/events``): how long and how many notices it keeps."""

    retention_days: Annotated[float, Meta(ge=1, le=3650)] = 30.0
    """Notices older than this are trimmed as new ones are appended."""
    max_length: Annotated[int, Meta(ge=1000, le=100_000_000)] = 1_000_000
    """At most this many notices are kept (the oldest go first)."""


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Everything the server reads at start. Each field's default is the value used when unset."""

    store_url: str = "memory://"
    """``memory://`` (one process, not durable) or ``redis://host:6379/0``."""
    api_key: str = ""
    """Bearer key of the server-to-server routes; empty disables those routes (401)."""
    identity_secret: str = ""
    """HMAC key of customer tokens; empty means a random key per process (tokens then do not survive a restart)."""
    cors_origins: list[str] = msgspec.field(default_factory=list)
    """Origins allowed to call the browser routes from another site (comma separated in the environment)."""
    host: str = "127.0.0.1"
    """Address to listen on."""
    port: Annotated[int, Meta(ge=1, le=65535)] = 8000
    """Port to listen on."""
    workers: Annotated[int, Meta(ge=1, le=64)] = 1
    """Server processes; more than one needs the Redis store."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """Threshold of the structured log."""
    access_log: bool = True
    """One structured line per request."""
    max_body_bytes: Annotated[int, Meta(ge=1024)] = 1_000_000
    """Largest request body of the browser routes (larger gets 413)."""
    max_catalog_body_bytes: Annotated[int, Meta(ge=1024)] = 8_000_000
    """Largest body of ``PUT /v1/catalog/items``."""
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$")] = "USD"
    """Shop currency (ISO 4217); money is held in its minor units."""
    demo: bool = False
    """Mount the demo storefront and load the demo store into an empty store at start; the loyalty program is then
    the demo's (``personalize/demo/loyalty.toml``) unless ``[loyalty]`` is set. ``personalize serve`` turns
    it on by default only for a store of its own (memory); a shared store (Redis) needs ``--demo``."""
    fixtures_dir: str = ""
    """Directory of demo JSONL files; empty uses the generated demo store (cached in ``demo_cache_dir``)."""
    demo_cache_dir: str = "var/demo"
    """Where the generated demo store is written once as JSONL and read back on later starts."""
    catalog_refresh_seconds: PositiveFloat = 1.0
    """How often a server process checks whether another process changed the catalog."""
    country_header: str = "CF-IPCountry"
    """Request header a CDN puts the visitor's country in (used when the page context has none)."""
    site_hosts: list[str] = msgspec.field(default_factory=list)
    """The shop's own hosts: a referrer from them is internal navigation, not a landing source."""
    banners_file: str = ""
    """Banner rules (TOML or JSON) loaded into an empty store at start; the demo uses the packaged demo file."""
    experiments_file: str = ""
    """Experiment definitions (TOML or JSON) loaded into a store that has none at start."""
    models_dir: str = "var/models"
    """Where ``personalize train`` writes versioned model artifacts and the server loads the newest."""
    loyalty_daily: bool = True
    """Run the loyalty day (tier evaluation, points expiry and its notices, birthday codes) once a UTC day in one
    server process of the store; off: only ``personalize loyalty evaluate`` and ``jobs`` run it."""
    tracking: TrackingSettings = msgspec.field(default_factory=TrackingSettings)
    trending: TrendingSettings = msgspec.field(default_factory=TrendingSettings)
    recommendations: RecommendationSettings = msgspec.field(default_factory=RecommendationSettings)
    loyalty: LoyaltyProgram = msgspec.field(default_factory=LoyaltyProgram)
    segments: SegmentSettings = msgspec.field(default_factory=SegmentSettings)
    limits: LimitSettings = msgspec.field(default_factory=LimitSettings)
    outbox: OutboxSettings = msgspec.field(default_factory=OutboxSettings)

    @property
    def store_shared(self) -> bool:
        """Whether ``store_url`` names a store every process shares (an open store says so too: ``Store.shared``)."""
        return STORE_SCHEMES[self.store_url.partition("://")[0]]

    @property
    def currency_exponent(self) -> int:
        """Minor-unit digits of the shop currency."""
        return money.exponent(self.currency)

    def __post_init__(self) -> None:
        money.check_currency(self.currency, "currency")
        if self.loyalty.currency not in (None, self.currency):
            raise ValueError(
                f"loyalty.currency {self.loyalty.currency!r} (PZ_LOYALTY__CURRENCY) differs from currency "
                f"{self.currency!r} (PZ_CURRENCY): the loyalty program counts in the shop's currency"
            )
        for index, reward in enumerate(self.loyalty.rewards):
            if reward.amount is not None:
                money.minor_units(Decimal(str(reward.amount)), self.currency, f"loyalty.rewards[{index}].amount")
        scheme, sep, _ = self.store_url.partition("://")
        if not sep or scheme not in STORE_SCHEMES:
            raise ValueError(f"store_url {self.store_url!r} must start with memory:// or redis:// (rediss:// for TLS)")
        if self.workers > 1 and not self.store_shared:
            raise ValueError(f"workers {self.workers} needs a shared store: set PZ_STORE_URL=redis://…")
        if self.workers > 1 and not self.identity_secret:
            raise ValueError("workers > 1 needs PZ_IDENTITY_SECRET, or each worker would sign with its own key")


def load_settings(environ: Mapping[str, str] | None = None, config_path: str | None = None) -> Settings:
    """Build and validate the settings tree.

    Args:
        environ: the environment to read (default ``os.environ``).
        config_path: a TOML file (default ``$PZ_CONFIG`` when set).

    Raises:
        SettingsError: a value is invalid, naming the environment variable or TOML key.
    """
    env = os.environ if environ is None else environ
    path = config_path if config_path is not None else env.get("PZ_CONFIG", "")
    tree: dict[str, Any] = _read_toml(Path(path)) if path else {}
    for name, value in env.items():
        if name.startswith("PZ_") and name not in _NOT_SETTINGS:
            _set_path(tree, name[3:].lower().split("__"), _env_value(name, value))
    try:
        settings = msgspec.convert(tree, Settings, strict=False)
        if settings.demo and "loyalty" not in tree:
            # the demo shop runs the demo's program (with rewards) unless the settings give one of their own
            settings = msgspec.convert({**tree, "loyalty": demo_program()}, Settings, strict=False)
        return settings
    except msgspec.ValidationError as exc:
        raise SettingsError(_name_key(str(exc))) from None


def demo_program() -> dict[str, Any]:
    """The demo shop's loyalty program (``personalize/demo/loyalty.toml``, the README's example program)."""
    text = (resources.files("personalize.demo") / "loyalty.toml").read_text()
    return dict(tomllib.loads(text)["loyalty"])


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise SettingsError(f"PZ_CONFIG {str(path)!r} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"PZ_CONFIG {str(path)!r} is not valid TOML: {exc}") from None


def _env_value(name: str, value: str) -> Any:
    if name in ("PZ_CORS_ORIGINS", "PZ_SITE_HOSTS"):
        return [origin.strip() for origin in value.split(",") if origin.strip()]
    if name.endswith("__WEIGHTS"):
        return _parse_weights(name, value)
    return value


def _parse_weights(name: str, value: str) -> dict[str, str]:
    """``product_view=1,add_to_cart=3`` → a dict; msgspec converts the numbers."""
    weights: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        key, sep, number = part.partition("=")
        if not sep:
            raise SettingsError(f"{name}: {part!r} must look like event_type=number")
        weights[key.strip()] = number.strip()
    return weights


def _set_path(tree: dict[str, Any], path: list[str], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise SettingsError(f"PZ_{'__'.join(path).upper()}: {part!r} is not a table of settings")
        node = child
    node[path[-1]] = value


def _name_key(message: str) -> str:
    """Rewrite msgspec's ``- at `$.tracking.weights``` into the names a person sets."""
    match = re.search(r" - at `\$\.([^`]+)`$", message)
    unknown = re.search(r"Object contains unknown field `([^`]+)`(?: - at `\$\.([^`]+)`)?", message)
    if unknown:
        key = ".".join(filter(None, [unknown.group(2), unknown.group(1)]))
        return f"unknown setting {key!r} ({_env_name(key)})"
    if match:
        key = re.sub(r"\[.*$", "", match.group(1))
        detail = message[: match.start()]
        return f"setting {key!r} ({_env_name(key)}): {detail}"
    return f"settings: {message}"


def _env_name(key: str) -> str:
    return "PZ_" + key.replace(".", "__").upper()
