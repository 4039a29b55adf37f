"""The README's API examples, run: every ``sh`` block followed by a ``json`` block is a request and its answer.

:func:`examples` finds the pairs; :func:`run` runs a block with bash against a real server (``localhost:8000`` in
the block becomes the server's address); :func:`same_shape` says whether an answer has the example's shape: the same
keys (an example key ``"..."`` allows more), list entries like the example's entry at their place, the same JSON
types. The test is
``tests/api/test_readme_examples.py``; ``python -m tests.readme_examples`` rewrites the README's answers from a
server it starts (``--check`` only compares).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"
_PAIR = re.compile(r"```sh\n(?P<sh>(?:(?!```).)*)```\n```json\n(?P<json>(?:(?!```).)*)```", re.DOTALL)
EXAMPLE_ENV = {"PZ_API_KEY": "demo-api-key", "PZ_IDENTITY_SECRET": "demo-identity-secret"}
"""The keys the README's examples use (``make demo``'s)."""


@dataclass(frozen=True)
class Example:
    command: str
    answer: str
    start: int
    end: int

    @property
    def line(self) -> int:
        return README.read_text()[: self.start].count("\n") + 1


def examples(text: str) -> list[Example]:
    """Every request-and-answer pair of the README, in order."""
    found = []
    for match in _PAIR.finditer(text):
        if "curl" in match.group("sh"):
            found.append(Example(match.group("sh"), match.group("json"), match.start("json"), match.end("json")))
    return found


def run(example: Example, base: str) -> Any:
    """The JSON the example's command prints, run against ``base``."""
    command = example.command.replace("localhost:8000", base.removeprefix("http://"))
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise AssertionError(f"README line {example.line}: exit {done.returncode}: {done.stderr}")
    return json.loads(done.stdout)


def same_shape(example: Any, actual: Any, path: str = "$") -> list[str]:
    """Where ``actual`` differs in shape from ``example`` (empty: it has the example's shape)."""
    if isinstance(example, dict):
        if not isinstance(actual, dict):
            return [f"{path}: an object in the example, {type(actual).__name__} here"]
        keys = set(example) - {"..."}
        problems = [f"{path}: no {key!r}" for key in sorted(keys - set(actual))]
        if "..." not in example:
            problems += [f"{path}: {key!r} is not in the example" for key in sorted(set(actual) - keys)]
        for key in sorted(keys & set(actual)):
            problems += same_shape(example[key], actual[key], f"{path}.{key}")
        return problems
    if isinstance(example, list):
        if not isinstance(actual, list):
            return [f"{path}: a list in the example, {type(actual).__name__} here"]
        if example and not actual:
            return [f"{path}: empty, where the example has entries"]
        problems = []
        for index, value in enumerate(actual[: len(example) + 3] if example else ()):
            # each entry against the example's entry at its place (its last entry past the example's end)
            problems += same_shape(example[min(index, len(example) - 1)], value, f"{path}[{index}]")
        return problems
    kinds = {bool: "boolean", int: "number", float: "number", str: "string", type(None): "null"}
    if kinds[type(example)] != kinds.get(type(actual), "?"):
        return [f"{path}: {kinds[type(example)]} in the example, {kinds.get(type(actual), type(actual).__name__)} here"]
    return []


def formatted(value: Any, indent: int = 0, width: int = 112) -> str:
    """JSON as the README writes it: a value on one line when it fits, else one key (or entry) a line."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(flat) + indent <= width or not isinstance(value, dict | list) or not value:
        return flat
    inner = " " * (indent + 2)
    if isinstance(value, dict):
        parts = [f"{inner}{json.dumps(key)}: {formatted(item, indent + 2, width)}" for key, item in value.items()]
        return "{\n" + ",\n".join(parts) + "\n" + " " * indent + "}"
    parts = [f"{inner}{formatted(item, indent + 2, width)}" for item in value]
    return "[\n" + ",\n".join(parts) + "\n" + " " * indent + "]"


def rewrite(base: str) -> int:
    """Replace every example's answer in the README with what the server at ``base`` answers; returns how many."""
    text = README.read_text()
    pairs = examples(text)
    answers = [formatted(run(example, base)) + "\n" for example in pairs]
    for example, answer in zip(reversed(pairs), reversed(answers), strict=True):
        text = text[: example.start] + answer + text[example.end :]
    README.write_text(text)
    return len(pairs)


def main() -> int:
    from tests.serving import running_server

    check = "--check" in sys.argv
    env = {**EXAMPLE_ENV, "PZ_MODELS_DIR": "var/models"}  # make demo's: trained on the first start
    with running_server(env=env, timeout=300) as base:
        if check:
            problems = [f"README line {e.line}: {p}" for e in examples(README.read_text())
                        for p in same_shape(json.loads(e.answer), run(e, base))]  # fmt: skip
            print("\n".join(problems) or "every README example has its answer's shape")
            return 1 if problems else 0
        print(f"rewrote {rewrite(base)} README answers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
