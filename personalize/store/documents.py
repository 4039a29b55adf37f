"""Files a server runs from its store: the banner rules, the loyalty program, the experiments — each one versioned
document (``ConfigStore``) holding the file exactly as uploaded.

An upload is parsed whole before it is stored, so a rejected file never reaches the store and the running one stays;
every process looks for a new version every ``catalog_refresh_seconds`` and swaps in what it parsed to in one
assignment. A stored file that no longer parses here (the settings changed since its upload) is logged and skipped:
the running one stays.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import msgspec

from personalize.errors import Refused
from personalize.store.protocols import Store

Format = Literal["toml", "json"]
T = TypeVar("T")
log = logging.getLogger("personalize.documents")
_AT = re.compile(r"^(?P<message>.*) - at `\$\.?(?P<field>[^`]*)`$", re.S)
"""msgspec's ``… - at `$.experiments[1].arms``` (the path of the field)."""
_UNKNOWN = re.compile(r"Object contains unknown field `([^`]+)`")


class FileDocument(msgspec.Struct, frozen=True):
    """An uploaded file: its format and its text exactly as uploaded (the stored form)."""

    format: Format
    content: str


def read_file(path: str) -> FileDocument:
    """A file on disk as a document (JSON when its name ends in ``.json``, else TOML)."""
    return FileDocument("json" if path.endswith(".json") else "toml", Path(path).read_text())


def decode_file(
    document: FileDocument,
    into: type[T],
    *,
    root: str,
    code: str,
    choices: Mapping[str, Sequence[str]] | None = None,
) -> T:
    """The file decoded strictly into ``into``; raises :class:`Refused` (``code``) naming the field
    (``experiments[1].arms``, ``root`` for the file as a whole), with the allowed values of a field ``choices``
    names when the file gives another.

    Args:
        document: The uploaded file.
        into: The file's type (unknown fields forbidden).
        root: What the file is called in messages and the field of errors of the whole file (``experiments``).
        code: The error code of a refusal (``invalid_experiments``).
        choices: Allowed values by field name, listed in the message of an invalid enum value.
    """
    try:
        tree: Any = (
            msgspec.json.decode(document.content) if document.format == "json" else tomllib.loads(document.content)
        )
    except (msgspec.DecodeError, tomllib.TOMLDecodeError) as exc:
        raise Refused(f"the {root} file is not valid {document.format.upper()}: {exc}", root, code=code) from None
    except RecursionError:  # the decoders give up on nesting deeper than about a thousand levels
        raise Refused(f"the {root} file is nested too deeply", root, code=code) from None
    try:
        return msgspec.convert(tree, into, strict=False)
    except msgspec.ValidationError as exc:
        match = _AT.match(str(exc))
        path, message = (match.group("field"), match.group("message")) if match else ("", str(exc))
        unknown = _UNKNOWN.fullmatch(message)
        field = ".".join(part for part in (path, unknown.group(1) if unknown else "") if part) or root
        allowed = (choices or {}).get(field.rsplit(".", 1)[-1])
        if allowed and message.startswith("Invalid enum value"):
            message += f" (one of {list(allowed)})"
        raise Refused(f"{field}: {message}", field, code=code) from None


class Versioned(Generic[T]):
    """One process's copy of a versioned document: the version it runs (0: none stored), the file, its value.

    ``what`` names the document in the log (``banner rules``); ``invalid`` are the errors by which a parse refuses a
    file.
    """

    def __init__(self, name: str, what: str, value: T, invalid: tuple[type[Exception], ...] = (Refused,)) -> None:
        self.name, self.what, self.value = name, what, value
        self.version = 0
        self.document: FileDocument | None = None
        self._invalid = invalid

    async def refresh(self, store: Store, parse: Callable[[FileDocument, int], T]) -> bool:
        """Swap in the version another process stored, parsed by ``parse(file, version)``; whether it changed."""
        stored = await store.config.get(self.name)
        if stored is None or stored[0] == self.version:
            return False
        version, raw = stored
        document = msgspec.msgpack.decode(raw, type=FileDocument)
        try:
            value = parse(document, version)
        except self._invalid as exc:
            log.error("stored %s v%d do not validate, keeping the running ones: %s", self.what, version, exc)
            self.version = version
            return False
        self.value, self.document, self.version = value, document, version
        log.info("%s version %d in service", self.what, version)
        return True

    async def put(self, store: Store, document: FileDocument, value: T) -> int:
        """Store an already parsed file as the next version and run ``value`` (its parse); the new version."""
        version = await store.config.put(self.name, msgspec.msgpack.encode(document))
        self.value, self.document, self.version = value, document, version
        return version


class FileBacked(Generic[T]):
    """A holder of one versioned document (``_file``): the version and file it runs."""

    _file: Versioned[T]

    @property
    def version(self) -> int:
        """The stored version in service (0: none stored)."""
        return self._file.version

    @property
    def document(self) -> FileDocument | None:
        """The file in service as uploaded (none before the first upload)."""
        return self._file.document
