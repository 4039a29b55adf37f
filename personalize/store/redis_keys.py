"""Every key of the Redis backend, built here and nowhere else (one function per kind of key).

Layout (all under ``pz:``)::

    pz:catalog:items              hash   item id → msgpack Item
    pz:catalog:ids                zset   every item id (lexicographic paging)
    pz:catalog:brand:{brand}      zset   ids of a brand (lower case)
    pz:catalog:cat:{path}         zset   ids under a category level
    pz:catalog:version            int    bumped by every upsert
    pz:session:{sid}              hash   decayed scores, ``_e`` epoch, ``_c`` linked customer, ``_s`` landing source
    pz:session:{sid}:recent       list   the session's latest viewed, clicked or carted items (newest first)
    pz:seen:{sid}                 zset   the session's event ids → arrival ms (de-duplication), capped, with a TTL
    pz:sessions                   zset   session id → last activity ms: the bound on sessions kept
    pz:customer:{cid}:profile     hash   long-term decayed scores, ``_e`` epoch
    pz:trend:meta                 hash   ``e``: the epoch shared by all trending lists
    pz:trend:keys                 set    every trending zset (for rebasing)
    pz:trend:all, pz:trend:cat:{path}    zset item id → scaled score
    pz:log:interactions           stream user, item, kind, ts of every counted event (capped)
    pz:ledger:{customer id}       string msgpack Ledger
    pz:ledger:ids                 set    every customer with a ledger
    pz:order:{order id}           string msgpack StoredOrder (the idempotency record of an order)
    pz:totals                     hash   running totals (customers, orders, lifetime_minor, tier:<name>)
    pz:redemption:{id}            string msgpack Redemption (the idempotency record of a redemption)
    pz:reward:{id}:taken          int    units of a reward redeemed and not cancelled (its stock's use)
    pz:mark:{name}                string a once-mark's receipt (an action id, a challenge week of a customer)
    pz:outbox                     stream loyalty notices (``n``: msgpack Notice), trimmed by age and length
    pz:segments:version           int    the last segmentation run's number
    pz:segments:live              string msgpack SegmentRun: which run is live
    pz:segments:{version}:of      hash   customer id → msgpack SegmentRecord of that run
    pz:segments:{version}:members:{name}  zset  that run's customers of a segment (lexicographic paging)
    pz:campaign:{id}              string msgpack Campaign
    pz:coupon:{code}              string msgpack Coupon (never deleted: codes are unique forever)
    pz:coupons:of:{customer id}   set    codes assigned to a customer
    pz:exp:{id}:unit:{unit}       string msgpack UnitRecord of an experiment's unit, set at its first exposure (TTL)
    pz:exp:{id}:arm:{arm}         hash   an arm's running sums (``loyalty_nudges.experiment_sums``)
    pz:config:{name}              hash   a versioned document (``version``, ``content``), e.g. the banners
    pz:claim:{name}, pz:lease:{name}     string  once-only claims and expiring leases between processes

Scripts receive the keys they touch in ``KEYS``, except the few a script can only find from what it reads in the
same call (the customer a session is linked to, a live run's version, the codes in a customer's set, the sessions it
evicts); for those it receives the prefixes below in its argument, so the layout is still stated here alone.
"""

from __future__ import annotations

ROOT = "pz:"
SESSION_PREFIX = f"{ROOT}session:"
SEEN_PREFIX = f"{ROOT}seen:"
CUSTOMER_PREFIX = f"{ROOT}customer:"
PROFILE_SUFFIX = ":profile"
SEGMENTS_PREFIX = f"{ROOT}segments:"
SEGMENT_RECORDS_SUFFIX = ":of"
COUPON_PREFIX = f"{ROOT}coupon:"
RECENT_SUFFIX = ":recent"


def catalog_items() -> str:
    return f"{ROOT}catalog:items"


def catalog_ids() -> str:
    return f"{ROOT}catalog:ids"


def catalog_version() -> str:
    return f"{ROOT}catalog:version"


def brand_index(brand: str) -> str:
    return f"{ROOT}catalog:brand:{brand.lower()}"


def category_index(path: str) -> str:
    return f"{ROOT}catalog:cat:{path}"


def session(session_id: str) -> str:
    return f"{SESSION_PREFIX}{session_id}"


def session_recent(session_id: str) -> str:
    return f"{SESSION_PREFIX}{session_id}{RECENT_SUFFIX}"


def session_seen(session_id: str) -> str:
    return f"{SEEN_PREFIX}{session_id}"


def sessions_index() -> str:
    return f"{ROOT}sessions"


def customer_profile(customer_id: str) -> str:
    return f"{CUSTOMER_PREFIX}{customer_id}{PROFILE_SUFFIX}"


def trend(scope: str) -> str:
    """A trending list: ``""`` the global one, else a category path."""
    return f"{ROOT}trend:cat:{scope}" if scope else f"{ROOT}trend:all"


def trend_meta() -> str:
    return f"{ROOT}trend:meta"


def trend_keys() -> str:
    return f"{ROOT}trend:keys"


def interactions_log() -> str:
    return f"{ROOT}log:interactions"


def ledger(customer_id: str) -> str:
    return f"{ROOT}ledger:{customer_id}"


def ledger_ids() -> str:
    return f"{ROOT}ledger:ids"


def order(order_id: str) -> str:
    return f"{ROOT}order:{order_id}"


def totals() -> str:
    return f"{ROOT}totals"


def redemption(redemption_id: str) -> str:
    return f"{ROOT}redemption:{redemption_id}"


def reward_taken(reward_id: str) -> str:
    return f"{ROOT}reward:{reward_id}:taken"


def mark(name: str) -> str:
    return f"{ROOT}mark:{name}"


def outbox() -> str:
    return f"{ROOT}outbox"


def segments_version() -> str:
    return f"{SEGMENTS_PREFIX}version"


def segments_live() -> str:
    return f"{SEGMENTS_PREFIX}live"


def segment_records(version: int) -> str:
    return f"{SEGMENTS_PREFIX}{version}{SEGMENT_RECORDS_SUFFIX}"


def segment_members(version: int, segment: str) -> str:
    return f"{SEGMENTS_PREFIX}{version}:members:{segment}"


def campaign(campaign_id: str) -> str:
    return f"{ROOT}campaign:{campaign_id}"


def coupon(code: str) -> str:
    return f"{COUPON_PREFIX}{code}"


def customer_coupons(customer_id: str) -> str:
    return f"{ROOT}coupons:of:{customer_id}"


def experiment_unit(experiment_id: str, unit: str) -> str:
    return f"{ROOT}exp:{experiment_id}:unit:{unit}"


def experiment_arm(experiment_id: str, arm: str) -> str:
    return f"{ROOT}exp:{experiment_id}:arm:{arm}"


def config(name: str) -> str:
    return f"{ROOT}config:{name}"


def claim(name: str) -> str:
    return f"{ROOT}claim:{name}"


def lease(name: str) -> str:
    return f"{ROOT}lease:{name}"
