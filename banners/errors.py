"""The errors the banners package raises.

Exceptions::

    BannerError (ValueError)
    ├── BannerFileError   a banner file that cannot be loaded (names the source, the banner and the field)
    └── TemplateError     a title or text template that does not compile (names the token or the brace)

Domain code raises these; the HTTP edge maps them to a 4xx answer or a start-up failure.
"""

from __future__ import annotations


class BannerError(ValueError):
    """Base of every error the banners package raises."""


class TemplateError(BannerError):
    """A template with an unknown token or an unbalanced brace."""


class BannerFileError(BannerError):
    """A banner file that cannot be loaded.

    Attributes:
        source: The file's name as the caller gave it (e.g. ``banners.toml``).
        banner: Id of the banner at fault, or None (a file-level problem, or a banner without a valid id).
        index: 0-based position of the banner at fault in ``banners``, or None for a file-level problem; the
            message shows it 1-based (``banner #3``) when the banner has no valid id.
        field: Dotted path of the field at fault inside the banner (or the file), or None.
        detail: What is wrong, without the location.
    """

    def __init__(
        self,
        source: str,
        detail: str,
        *,
        banner: str | None = None,
        index: int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = source
        self.banner = banner
        self.index = index
        self.field = field
        self.detail = detail
        parts = [source]
        if banner is not None:
            parts.append(f"banner {banner!r}")
        elif index is not None:
            parts.append(f"banner #{index + 1}")
        if field:
            parts.append(f"field {field!r}")
        super().__init__(": ".join([*parts, detail]))
