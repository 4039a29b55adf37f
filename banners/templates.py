"""Banner title and text templates: ``{token}`` placeholders, ``{{`` and ``}}`` for literal braces.

Templates are compiled once at load and rendered as plain text: values are substituted verbatim and
nothing is interpreted as markup (a title of ``<b>hi</b>`` comes back as those eight characters). The
caller puts the string into JSON and the snippet renders it with ``textContent``, so no escaping happens
here. A template that needs a value the visitor lacks renders to None, never to text with a hole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from banners.errors import TemplateError

TOKENS: tuple[str, ...] = (
    "first_name", "tier", "discount_pct", "remaining", "coupon_code", "points", "reward", "points_missing",
)  # fmt: skip
"""Every token a template may use."""

_PIECE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class TemplateValues(msgspec.Struct, frozen=True, kw_only=True):
    """What the visitor's templates may show; None where the visitor has no such value.

    Attributes:
        first_name: The customer's first name.
        tier: The tier's display name (``Bronze``).
        discount_pct: The tier discount as shown (``10``).
        remaining: Money already formatted for display (``$500.00``).
        coupon_code: The visitor's personal coupon code; a banner's static code stands in when this is None.
        points: The spendable balance (``320``).
        reward: The title of the reward within reach (``−20 % on everything``).
        points_missing: The points that reward still needs (``50``).
    """

    first_name: str | None = None
    tier: str | None = None
    discount_pct: str | None = None
    remaining: str | None = None
    coupon_code: str | None = None
    points: str | None = None
    reward: str | None = None
    points_missing: str | None = None

    def lookup(self) -> dict[str, str | None]:
        """The values keyed by token name."""
        return {token: getattr(self, token) for token in TOKENS}


class Template(msgspec.Struct, frozen=True):
    """A compiled template: literal ``pieces`` interleaved with ``tokens`` (one more piece than tokens)."""

    source: str
    pieces: tuple[str, ...]
    tokens: tuple[str, ...]

    def render(self, values: Mapping[str, str | None]) -> str | None:
        """The text with every token replaced, or None when a token's value is None.

        Args:
            values: Token name to value; every token of the template must be a key.
        """
        if not self.tokens:
            return self.pieces[0]
        out = [self.pieces[0]]
        for token, piece in zip(self.tokens, self.pieces[1:], strict=True):
            value = values[token]
            if value is None:
                return None
            out.append(value)
            out.append(piece)
        return "".join(out)


def compile_template(source: str) -> Template:
    """Compile a template, checking its tokens and braces.

    Args:
        source: The template as written (``"Welcome back, {tier} member"``).

    Raises:
        TemplateError: An unknown token (the message lists the known ones) or a lone ``{`` or ``}``.
    """
    pieces: list[str] = []
    tokens: list[str] = []
    literal: list[str] = []
    position = 0
    for match in _PIECE.finditer(source):
        literal.append(source[position : match.start()])
        position = match.end()
        piece = match.group(0)
        if piece in ("{{", "}}"):
            literal.append(piece[0])
            continue
        tokens.append(_token(match, source))
        pieces.append("".join(literal))
        literal = []
    literal.append(source[position:])
    pieces.append("".join(literal))
    return Template(source=source, pieces=tuple(pieces), tokens=tuple(tokens))


def _token(match: re.Match[str], source: str) -> str:
    name = match.group(1)
    if name is None:
        raise TemplateError(
            f"unbalanced {match.group(0)!r} at position {match.start()} (write {{{{ or }}}} for a brace)"
        )
    if name not in TOKENS:
        raise TemplateError(f"unknown token '{{{name}}}' (known: {', '.join(TOKENS)})")
    return name
