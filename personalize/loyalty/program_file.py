"""The loyalty program a server runs: the settings' ``[loyalty]``, or a program file uploaded to the store.

``PUT /v1/admin/loyalty`` validates a program file whole — as strictly as the settings at start (unknown fields,
thresholds that do not increase, a reward without its discount, a schedule that is never on), and against the catalog
(a multiplier or challenge naming a tag no item carries, or a category the catalog lacks, can never apply) — before
storing it, so a rejected file never reaches the store and the running program stays. Every process notices a new
version within ``catalog_refresh_seconds`` and swaps it in with one assignment of its settings
(:meth:`personalize.runtime.Runtime.use_program`); orders, pages and jobs read the program from there.

A file is the program itself, or a settings file whose only table is ``[loyalty]`` (the demo's
``personalize/demo/loyalty.toml`` uploads as it is).
"""

from __future__ import annotations

import re
import tomllib
from typing import TYPE_CHECKING, Any

import msgspec

from loyalty_nudges.program import Challenge, LoyaltyProgram, Multiplier
from personalize.catalog.index import CatalogIndex
from personalize.catalog.items import category_levels
from personalize.errors import Refused
from personalize.settings import Settings
from personalize.store.documents import FileBacked, FileDocument, Format, Versioned

if TYPE_CHECKING:
    from personalize.runtime import Runtime

DOCUMENT = "loyalty"
INVALID = "invalid_program"
"""The error code of a program file a rule refuses (422)."""
_AT = re.compile(r"^(?P<message>.*) - at `\$(?:\.loyalty)?\.?(?P<field>[^`]*)`$", re.S)
"""msgspec's ``… - at `$.loyalty.rewards[1].cost``` (the path under the program)."""
_UNKNOWN = re.compile(r"Object contains unknown field `([^`]+)`")
_LEADING_FIELD = re.compile(r"([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): ")
"""A program rule's message that starts with its field (``rewards[3].tiers: …``)."""


class ProgramOut(msgspec.Struct, kw_only=True):
    """``GET`` and ``PUT /v1/admin/loyalty``: the program in service."""

    version: int
    """The uploaded file's version; 0: none uploaded, the settings' ``[loyalty]`` runs."""
    format: Format | None
    content: str | None
    program: dict[str, Any]
    """The program as the server reads it, every default filled in."""


def program_out(runtime: Runtime) -> ProgramOut:
    """What the program routes answer."""
    document = runtime.program.document
    return ProgramOut(
        version=runtime.program.version,
        format=document.format if document else None,
        content=document.content if document else None,
        program=msgspec.to_builtins(runtime.settings.loyalty),
    )


def parse_program(document: FileDocument, settings: Settings, catalog: CatalogIndex | None) -> LoyaltyProgram:
    """The program a file describes, checked as the settings are at start and (given one) against the catalog;
    raises :class:`Refused` (``invalid_program``: not TOML or JSON, or a rule refuses it), naming the field."""
    tree = _tree(document)
    if set(tree) == {"loyalty"} and isinstance(tree["loyalty"], dict):
        tree = tree["loyalty"]
    try:
        program = msgspec.convert({**msgspec.to_builtins(settings), "loyalty": tree}, Settings, strict=False).loyalty
    except msgspec.ValidationError as exc:
        raise _refusal(str(exc)) from None
    if catalog is not None:
        _check_against_catalog(program, catalog)
    return program


def _tree(document: FileDocument) -> dict[str, Any]:
    try:
        decode = msgspec.json.decode if document.format == "json" else tomllib.loads
        tree = decode(document.content)
    except (msgspec.DecodeError, tomllib.TOMLDecodeError) as exc:
        raise Refused(
            f"the program file is not valid {document.format.upper()}: {exc}", "loyalty", code=INVALID
        ) from None
    except RecursionError:  # the decoders give up on nesting deeper than about a thousand levels
        raise Refused("the program file is nested too deeply", "loyalty", code=INVALID) from None
    if not isinstance(tree, dict):
        raise Refused("the program file must hold a table (an object) of program fields", "loyalty", code=INVALID)
    return tree


def _refusal(text: str) -> Refused:
    """A validation error as a refusal naming the field: the path msgspec gives, with the unknown field it names or
    the field a program rule's message starts with (``rewards[3].tiers: …``)."""
    match = _AT.match(text)
    path, message = (match.group("field"), match.group("message")) if match else ("", text)
    named = _UNKNOWN.fullmatch(message) or _LEADING_FIELD.match(message)
    field = ".".join(part for part in (path, named.group(1) if named else "") if part) or "loyalty"
    text = message if message.startswith(f"{field}:") else f"{field}: {message}"
    return Refused(text, field, code=INVALID)


def _check_against_catalog(program: LoyaltyProgram, catalog: CatalogIndex) -> None:
    """Every tag and category an earning rule names is on some catalog item (else the rule can never apply)."""
    tags = {tag for item in catalog.items.values() for tag in item.tags}
    categories = {level for item in catalog.items.values() for level in category_levels(item.category)}
    earning = program.earning
    rules: list[tuple[str, Multiplier | Challenge]] = [
        *((f"multipliers[{i}]", rule) for i, rule in enumerate(earning.multipliers)),
        *((f"challenges[{i}]", rule) for i, rule in enumerate(earning.challenges)),
    ]
    for place, rule in rules:
        for name, named, known in (("tags", rule.tags, tags), ("categories", rule.categories, categories)):
            for value in named:
                if value not in known:
                    field = f"earning.{place}.{name}"
                    held = "the catalog is empty: load it first" if not catalog.items else f"{len(known)} known"
                    message = f"{field}: no catalog item has the {name[:-1]} {value!r} ({held})"
                    raise Refused(message, field, code=INVALID)


class LiveProgram(FileBacked[LoyaltyProgram | None]):
    """The stored program file of one process and its version (0: none stored, the settings' program runs); the
    program itself runs from the runtime's settings (:meth:`personalize.runtime.Runtime.use_program`)."""

    def __init__(self) -> None:
        self._file: Versioned[LoyaltyProgram | None] = Versioned(DOCUMENT, "loyalty program", None)

    async def refresh(self, runtime: Runtime) -> None:
        """Swap in the program another process stored (a stored file that no longer validates is logged, not run)."""

        def parse(document: FileDocument, _version: int) -> LoyaltyProgram:
            return parse_program(document, runtime.settings, None)  # not this process's catalog: it may have changed

        if await self._file.refresh(runtime.store, parse) and self._file.value is not None:
            runtime.use_program(self._file.value)

    async def put(self, runtime: Runtime, document: FileDocument) -> int:
        """Validate (against this process's catalog), then store as the next version and run it."""
        program = parse_program(document, runtime.settings, runtime.catalog)
        version = await self._file.put(runtime.store, document, program)
        runtime.use_program(program)
        return version
