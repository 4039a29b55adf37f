"""The README states every setting and shows the example loyalty program exactly as the file holds it."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec

from personalize.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _leaves(kind: type[msgspec.Struct], prefix: str = "") -> list[str]:
    names = []
    for field in msgspec.structs.fields(kind):
        kind_of = field.type
        if isinstance(kind_of, type) and issubclass(kind_of, msgspec.Struct) and field.name not in ("policy",):
            names += _leaves(kind_of, f"{prefix}{field.name}.")
        else:
            names.append(f"{prefix}{field.name}")
    return names


def test_every_setting_is_in_the_readme() -> None:
    stated = set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)*)`", README))
    missing = [name for name in _leaves(Settings) if name not in stated and name.rsplit(".", 1)[-1] not in stated]
    assert missing == []


def test_the_readme_shows_the_example_program_as_the_file_holds_it() -> None:
    program = (ROOT / "personalize" / "demo" / "loyalty.toml").read_text()
    assert f"```toml\n{program}```" in README
