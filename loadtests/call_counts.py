"""Python calls per page request, counted in process: the stable figure of the page path on a noisy machine.

``PYTHONPATH=<checkout> python loadtests/call_counts.py TARGETS [REQUESTS]`` serves the demo store from that checkout
in process (httpx's ASGI transport; the memory store; models from ``PZ_MODELS_DIR``, default ``var/models``), sends
300 of the bench's request bodies (``loadtests.bench``) for warm-up, then ``REQUESTS`` (400) more under cProfile, and
prints per target the calls per request and the nudges the answers held. Run it as a file so that the checkout's own
packages are the ones imported; the environment may change settings (``PZ_LOYALTY__WINDOW=rolling_365d``). The
first run of a checkout on a fresh demo cache counts higher (it builds the cache): leave it out.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
from collections import Counter
from pathlib import Path

WARM_UP = 300


async def count(target: str, requests: int) -> str:
    import httpx

    from fixtures import generate
    from loadtests.bench import _bodies
    from personalize.app import create_app
    from personalize.settings import load_settings

    app = create_app(load_settings())
    route = "/v1/events" if target.startswith("events") else "/v1/page"
    bodies = _bodies(generate())[target]
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for body in bodies[:WARM_UP]:
            await c.post(route, json=body)
        nudges: Counter[str] = Counter()
        profile = cProfile.Profile()
        profile.enable()
        for n in range(requests):
            answer = await c.post(route, json=bodies[(WARM_UP + n) % len(bodies)])
            nudges.update(nudge["kind"] for nudge in answer.json().get("nudges", []) if route == "/v1/page")
        profile.disable()
    calls = pstats.Stats(profile).total_calls / requests  # type: ignore[attr-defined]
    return f"{target}: {calls:,.1f} calls per request, nudges {dict(nudges)}"


def main() -> None:
    from loadtests.bench import BENCH_SECRET

    targets = sys.argv[1].split(",") if len(sys.argv) > 1 else ["product", "cart"]
    requests = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    models = str(Path(os.environ.get("PZ_MODELS_DIR", "var/models")).resolve())
    os.environ.update({
        "PZ_DEMO": "true", "PZ_API_KEY": "call-counts", "PZ_IDENTITY_SECRET": BENCH_SECRET, "PZ_MODELS_DIR": models,
        "PZ_SEGMENTS__EVERY_HOURS": "0", "PZ_LIMITS__IP_PER_SECOND": "0", "PZ_ACCESS_LOG": "false",
        "PZ_LOG_LEVEL": "warning",
    })  # fmt: skip
    os.chdir(tempfile.mkdtemp(prefix="pz-calls-"))  # the demo cache of its own
    for target in targets:
        print(asyncio.run(count(target, requests)))


if __name__ == "__main__":
    if not os.environ.get("PYTHONPATH"):  # this checkout's packages
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
