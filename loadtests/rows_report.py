"""What the demo's recommendation rows look like to a merchandiser, in figures (BENCHMARKS.md, "Rows").

Run from a checkout: ``.venv/bin/python -m loadtests.rows_report [--pages 200] [--seed 7]``. It trains the
models on the demo store (or takes ``--models DIR``), serves the demo on the memory store in process, and asks
``POST /v1/page`` for:

- ``--pages`` product pages of in-stock items drawn with the seed, by anonymous visitors: of their
  ``product_similar`` rows, the median ``|log(price / anchor price)|`` of the items, the share of rows (of two
  items or more) that are all one brand, and the share of rows holding two items of one near-duplicate title;
- as many signed-in demo customers' home pages: the share of ``home_for_you`` rows that hold the store's
  single most frequent item (the most ordered), and the share that hold the item most frequent in these rows
  (a bestseller filling every personal row shows in either);
- as many carts of two items of one category: the share of ``cart_cross_sell`` rows holding the most ordered
  item and the item most frequent in these rows, and the share of their items in a category the cart already has.

Only the public API is used, so the same file measures an older checkout (``PYTHONPATH=<checkout>``).
"""

from __future__ import annotations

import argparse
import math
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec

API_KEY = "rows-report"
SECRET = "rows-report-secret"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200, help="product pages, home pages and carts (each)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--models", help="a models directory trained on the demo store (default: train one)")
    args = parser.parse_args()
    print(report(args.pages, args.seed, args.models))


def report(pages: int, seed: int, models: str | None) -> str:
    from litestar.testing import TestClient

    from personalize import identity
    from personalize.app import create_app
    from personalize.demo.loader import demo_dir
    from personalize.settings import load_settings

    work = Path(tempfile.mkdtemp(prefix="pz-rows-"))
    env = {
        "PZ_API_KEY": API_KEY,
        "PZ_IDENTITY_SECRET": SECRET,
        "PZ_ACCESS_LOG": "false",
        "PZ_DEMO": "true",
        "PZ_DEMO_CACHE_DIR": str(work / "demo"),
        "PZ_MODELS_DIR": models or str(_train(work)),
        "PZ_SEGMENTS__EVERY_HOURS": "0",
        "PZ_LIMITS__IP_PER_SECOND": "0",
        "PZ_LIMITS__SESSION_PER_SECOND": "0",
    }
    settings = load_settings(env, config_path="")
    source = demo_dir(settings)
    catalog = {item["item_id"]: item for item in _lines(source / "catalog.jsonl")}
    ordered = Counter(line["item_id"] for order in _lines(source / "orders.jsonl") for line in order["items"])
    bestseller = ordered.most_common(1)[0][0]
    customers = sorted({order["customer_id"] for order in _lines(source / "orders.jsonl")})
    rng = random.Random(seed)
    in_stock = sorted(i for i, item in catalog.items() if item.get("in_stock", True))
    anchors = rng.sample(in_stock, pages)
    people = rng.sample(customers, min(pages, len(customers)))
    by_category: dict[str, list[str]] = {}
    for item_id in in_stock:
        by_category.setdefault(catalog[item_id]["category"], []).append(item_id)
    carts = [rng.sample(by_category[c], 2) for c in rng.choices(sorted(by_category), k=pages)]

    started = time.perf_counter()
    with TestClient(create_app(settings)) as client:

        def page(body: dict[str, Any]) -> dict[str, list[str]]:
            answer = client.post("/v1/page", json={"consent": True, **body})
            answer.raise_for_status()
            return {name: [i["item_id"] for i in row] for name, row in answer.json()["recommendations"].items()}

        similar = [page({"page": {"type": "product", "item_id": a}})["product_similar"] for a in anchors]
        homes = []
        for customer in people:
            token = identity.sign_customer(customer, SECRET, int(time.time()) + 3600)
            homes.append(page({"customer_token": token, "page": {"type": "home"}})["home_for_you"])
        cross = [
            page({"page": {"type": "cart", "cart": [{"item_id": i} for i in cart]}})["cart_cross_sell"]
            for cart in carts
        ]
    seconds = time.perf_counter() - started

    gaps = [
        abs(math.log(catalog[i]["price"] / catalog[a]["price"]))
        for a, row in zip(anchors, similar, strict=True)
        for i in row
    ]
    full = [row for row in similar if len(row) >= 2]
    one_brand = sum(len({catalog[i]["brand"] for i in row}) == 1 for row in full)
    twins = sum(_has_twins(row, catalog) for row in similar + homes + cross)
    same_category = [
        catalog[i]["category"] in {catalog[c]["category"] for c in cart}
        for cart, row in zip(carts, cross, strict=True)
        for i in row
    ]
    rows = len(similar) + len(homes) + len(cross)
    top_home = Counter(i for row in homes for i in row).most_common(1)[0][0]
    top_cross = Counter(i for row in cross for i in row).most_common(1)[0][0]
    lines = [
        f"Rows report: {pages} product pages, {len(homes)} home pages, {len(cross)} carts (seed {seed}); "
        f"the most ordered item is {bestseller} ({catalog[bestseller]['brand']} {catalog[bestseller]['title']}, "
        f"{ordered[bestseller]} orders); {seconds:.1f} s.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| similar: median \\|log(price / anchor price)\\| | {statistics.median(gaps):.3f} |",
        f"| similar: rows all one brand | {one_brand / max(len(full), 1):.1%} ({one_brand} of {len(full)}) |",
        f"| similar: mean items per row | {statistics.mean(len(r) for r in similar):.2f} |",
        f"| home_for_you rows holding the most ordered item | {_share(homes, bestseller)} |",
        f"| home_for_you rows holding the item most frequent in them ({top_home}) | {_share(homes, top_home)} |",
        f"| cart_cross_sell rows holding the item most frequent in them ({top_cross}) | {_share(cross, top_cross)} |",
        f"| cart_cross_sell rows holding the most ordered item | {_share(cross, bestseller)} |",
        f"| cart_cross_sell items in a category the cart has | {sum(same_category) / max(len(same_category), 1):.1%} |",
        f"| rows with two near-duplicate titles (all three kinds) | {twins} of {rows} |",
    ]
    return "\n".join(lines)


def _share(rows: list[list[str]], item_id: str) -> str:
    holding = sum(item_id in row for row in rows)
    return f"{holding / max(len(rows), 1):.1%} ({holding} of {len(rows)})"


def _has_twins(row: list[str], catalog: dict[str, dict[str, Any]]) -> bool:
    keys = [_title_key(catalog[i]) for i in row]
    return len(set(keys)) < len(keys)


def _title_key(item: dict[str, Any]) -> tuple[str, str]:
    """The brand and the title without its colour, case and punctuation (as a shopper would see a twin)."""
    words = re.findall(r"[a-z0-9]+", item["title"].lower())
    return item["brand"].lower(), " ".join(w for w in words if w != item.get("color", "").lower())


def _lines(path: Path) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line) for line in path.read_bytes().splitlines() if line.strip()]


def _train(work: Path) -> Path:
    from personalize.demo.loader import demo_dir
    from personalize.models.training import from_exports, iter_lines, train
    from personalize.settings import load_settings

    settings = load_settings({"PZ_DEMO_CACHE_DIR": str(work / "demo")}, config_path="")
    source = demo_dir(settings)
    models = work / "models"
    data = from_exports(iter_lines(source / "events.jsonl"), iter_lines(source / "orders.jsonl"), "demo store")
    train(data, models)
    return models


if __name__ == "__main__":
    main()
