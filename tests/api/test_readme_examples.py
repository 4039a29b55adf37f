"""The README's API examples run against a real server with the demo store, and every answer has the shape the
README shows (``tests/readme_examples.py``; ``python -m tests.readme_examples`` refreshes them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.readme_examples import EXAMPLE_ENV, README, examples, run, same_shape
from tests.serving import running_server

pytestmark = pytest.mark.slow


def test_every_readme_example_answers_in_the_shape_it_shows(demo_models: Path) -> None:
    pairs = examples(README.read_text())
    assert len(pairs) >= 5
    with running_server(env={**EXAMPLE_ENV, "PZ_MODELS_DIR": str(demo_models)}, timeout=120) as base:
        problems = [
            f"README line {example.line}: {problem}"
            for example in pairs
            for problem in same_shape(json.loads(example.answer), run(example, base))
        ]
    assert problems == []
