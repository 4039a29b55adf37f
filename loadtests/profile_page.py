"""Where a page call's time goes: py-spy samples of the production server under saturation, by part.

``python -m loadtests.profile_page product --store memory`` starts the server as ``python -m loadtests.bench`` does
(uvicorn, access log, demo store and models), drives the target from the bench's load generator for the
given seconds while ``py-spy record`` samples the server process (install it: ``pip install py-spy``), and
prints the share of samples in each part of the request: socket writes, litestar, uvicorn, request parsing,
the handler's own parts (placements, banners, the store call) and the access log. py-spy samples wall time
on CPU; a share near a socket write also holds the moments the kernel switched to the load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from fixtures import generate
from loadtests import bench
from loadtests.loadgen import saturate

PARTS = (
    ("placements (compose)", "compose (personalize/composition.py"),
    ("banners", "banners_for ("),
    ("store call (page_view)", "page_view (personalize/store"),
    ("store call (tracking)", "RedisTracking.apply ("),
    ("store call (tracking)", "MemoryTracking.apply ("),
    ("access log and metrics", "RequestObserver._record"),
    ("response encoding", "encode_json ("),
    ("rate limits", "BrowserLimits.check"),
    ("request parsing (body, arguments)", "KwargsModel.to_kwargs"),
    ("request parsing (body, arguments)", "parse_values_from_connection_kwargs"),
)


def part_of(stack: str) -> str:
    """The part of the request a sampled stack (``frame;frame;…``) belongs to."""
    for name, marker in PARTS:
        if marker in stack:
            return name
    if "page_view (personalize/api" in stack or "track_events (" in stack:
        return "handler, other"
    if "RequestResponseCycle.send" in stack:
        return "socket writes (uvicorn send)"
    if "litestar" in stack:
        return "litestar, other"
    if "uvicorn" in stack:
        return "uvicorn, other"
    return "event loop and the rest"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", choices=["home", "category", "product", "cart", "events (20 per call)"])
    parser.add_argument("--store", choices=["memory", "redis"], default="memory")
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        sys.exit("py-spy is not installed: pip install py-spy")
    demo = generate()
    with tempfile.TemporaryDirectory(prefix="pz-profile-") as tmp:
        work = Path(tmp)
        with bench._store_url(args.store, work) as url, bench._server(url, work / "models", work, 1) as server:
            path = "/v1/events" if args.target.startswith("events") else "/v1/page"
            requests = [bench._post(server, path, body) for body in bench._bodies(demo)[args.target]]
            asyncio.run(saturate("127.0.0.1", server.port, requests, 2.0, 32))
            samples = work / "samples.txt"
            command = [spy, "record", "-p", str(server.process.pid), "-f", "raw", "-o", str(samples)]
            recorder = subprocess.Popen(
                [*command, "-d", str(int(args.seconds)), "-r", "200", "--nonblocking"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            result = asyncio.run(saturate("127.0.0.1", server.port, requests, args.seconds, 32))
            recorder.wait()
        parts: collections.Counter[str] = collections.Counter()
        for line in samples.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            parts[part_of(stack)] += int(count)
    total = sum(parts.values())
    print(f"{args.target} on {args.store}: {result.rate:,.0f} req/s while sampled; {total:,} samples")
    for name, count in parts.most_common():
        print(f"{count / total:6.1%}  {name}")


if __name__ == "__main__":
    main()
