"""Does choosing a page's banners grow with banners that cannot match it? ``python -m loadtests.banner_scaling``

Compiles the demo banner file alone and with 1,000 and 10,000 extra banners restricted to product pages
(and, separately, 1,000 extra home banners in a slot that is already full), then times ``choose`` for a
home page view (medians of alternating rounds, one process, so only the ratios matter).
"""

from __future__ import annotations

import statistics
import time
from importlib import resources

from banners import BannerContext, BannerSet, TemplateValues, load_banners
from loyalty_nudges.segments import DEFAULT_RULES

DEMO = (resources.files("banners") / "demo_banners.toml").read_text()
TIERS = {"bronze", "silver", "gold"}
SEGMENTS = {rule.name for rule in DEFAULT_RULES}


def with_extra(count: int, page: str, slot: str, priority: int) -> BannerSet:
    """The demo rules plus ``count`` banners shown only on ``page`` in ``slot``."""
    extra = "".join(
        f'\n[[banners]]\nid = "extra-{n}"\nslot = "{slot}"\npriority = {priority}\ntitle = "t"\ntext = "t"\n'
        f'when = {{ type = "all", conditions = [{{ type = "page_type", values = ["{page}"] }}, '
        f'{{ type = "country", values = ["FR"] }}] }}\n'
        for n in range(count)
    )
    return load_banners((DEMO + extra).encode(), source="bench", fmt="toml", known_tiers=TIERS, known_segments=SEGMENTS)


def per_call_us(rules: BannerSet, calls: int = 2000) -> float:
    context = BannerContext(
        page_type="home",
        landing_source="facebook",
        country="US",
        returning=True,
        has_ordered=True,
        tier="bronze",
        segment="champions",
        engagement=95.0,
        now_ms=1_795_000_000_000,
        subject="s-bench",
    )
    values = TemplateValues(tier="Bronze", discount_pct="10", coupon_code="VIP20ABCDEFGHJK")
    started = time.perf_counter()
    for _ in range(calls):
        rules.choose(context, values)
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    sets = {
        "demo rules (7 banners)": with_extra(0, "product", "hero", 0),
        "+ 1,000 product-page banners": with_extra(1000, "product", "hero", 0),
        "+ 10,000 product-page banners": with_extra(10_000, "product", "hero", 0),
        "+ 1,000 home banners below a full slot": with_extra(1000, "home", "hero", -1),
    }
    runs: dict[str, list[float]] = {name: [] for name in sets}
    for _ in range(7):
        for name, rules in sets.items():
            runs[name].append(per_call_us(rules))
    base = statistics.median(runs["demo rules (7 banners)"])
    print("| banner set | µs per home-page choice | ratio |")
    print("|---|---:|---:|")
    for name, values in runs.items():
        print(f"| {name} | {statistics.median(values):.1f} | {statistics.median(values) / base:.2f} |")


if __name__ == "__main__":
    main()
