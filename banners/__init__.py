"""Marketer-authored banner rules and the matching engine (pure).

Load a file once with :func:`load_banners` (TOML or JSON bytes), then per page view call
:meth:`BannerSet.choose` with a :class:`BannerContext` and the visitor's :class:`TemplateValues`. The
package reads no clock and does no I/O: time comes in as ``BannerContext.now_ms`` and files as bytes.
The demo store's file ships as package data: ``importlib.resources.files("banners") / "demo_banners.toml"``.

Modules: :mod:`~banners.rules` (file types and conditions), :mod:`~banners.files` (loading and
validation), :mod:`~banners.predicates` (compiled conditions), :mod:`~banners.engine` (index and choice),
:mod:`~banners.templates`, :mod:`~banners.assignment` (holdouts and variants), :mod:`~banners.context`.

Exceptions::

    BannerError (ValueError)
    ├── BannerFileError   a banner file that cannot be loaded (names the source, the banner and the field)
    └── TemplateError     a title or text template that does not compile
"""

from __future__ import annotations

from banners.context import BannerContext
from banners.engine import CONTROL, HOLDOUT, BannerSet, Choice, Chosen, HeldOut
from banners.errors import BannerError, BannerFileError, TemplateError
from banners.files import load_banners
from banners.rules import PAGE_TYPES, BannerFile, Condition, PageType
from banners.templates import TOKENS, TemplateValues

__all__ = [
    "CONTROL",
    "HOLDOUT",
    "PAGE_TYPES",
    "TOKENS",
    "BannerContext",
    "BannerError",
    "BannerFile",
    "BannerFileError",
    "BannerSet",
    "Choice",
    "Chosen",
    "Condition",
    "HeldOut",
    "PageType",
    "TemplateError",
    "TemplateValues",
    "load_banners",
]
