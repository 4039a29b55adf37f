"""How JSON request bodies are read: numbers exactly, nesting bounded, every failure a 400.

Litestar reads a body to plain values first and converts them to the handler's type afterwards, so a money
amount would pass through a binary float (``10.004999999999999999`` became ``10.005``, ``1e-999999`` became 0).
:class:`ExactJsonRequest` decodes every number with a fraction or an exponent to a ``Decimal`` instead; a
``Decimal`` field keeps it exactly and a ``float`` field converts it as before. A body nested deeper than the
decoder's recursion limit (about a thousand levels: no request of this API nests more than a few) raises
``RecursionError`` in msgspec, which is answered as the 400 it is rather than a 500.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException
from litestar.types import Empty


def _number(text: str) -> Decimal | int:
    """A JSON number with a fraction or an exponent: exact. A whole one (``4.0``, ``1e3``) that fits 64 bits is an
    ``int``, so integer fields take it as JSON Schema says they should; larger ones stay ``Decimal`` (no integer
    of a million digits is ever built from ``1e999999``)."""
    value = Decimal(text)
    if value.is_finite() and value.adjusted() < 19 and value == value.to_integral_value():
        return int(value)
    return value


_EXACT = msgspec.json.Decoder(float_hook=_number)


class BodyTooDeep(SerializationException):
    """A JSON body nested beyond what the decoder follows."""


class ExactJsonRequest(Request[Any, Any, Any]):
    """A request whose JSON body is decoded with exact numbers and bounded nesting."""

    async def json(self) -> Any:
        if self._json is Empty:
            if (cached := self._connection_state.json) is not Empty:
                self._json = cached
            else:
                self._json = self._connection_state.json = decode_exact(await self.body() or b"null")
        return self._json


def decode_exact(body: bytes) -> Any:
    """A JSON document with fractional numbers as ``Decimal``; raises litestar's ``SerializationException``
    (a 400) for malformed JSON and :class:`BodyTooDeep` for nesting beyond the decoder's limit."""
    try:
        return _EXACT.decode(body)
    except msgspec.DecodeError as exc:
        raise SerializationException(str(exc)) from exc
    except RecursionError:
        raise BodyTooDeep("JSON is nested too deeply") from None
