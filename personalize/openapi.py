"""OpenAPI keywords for wire types whose schema litestar would derive wrongly from the msgspec type.

Litestar documents ``Decimal`` as a string (the wire carries money as a JSON number), drops a bound of 0 on an
optional or union number (it tests the bound for truth) and the constraints of a list's items; rules that a
``__post_init__`` checks are not in the type at all. :func:`schema` and :func:`list_of` state them on the type
itself, next to the validation, so the published schema and the server's decoding cannot drift apart unnoticed
(the API fuzzer in ``tests/fuzz`` compares them). :class:`ClosedStructs`, an app plugin, says which objects
refuse unknown fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from msgspec import Meta

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition


def schema(**keywords: object) -> Meta:
    """A ``Meta`` that sets ``keywords`` on the field's OpenAPI schema (litestar's ``Schema`` attribute names,
    e.g. ``exclusive_minimum``; litestar reads them from ``extra_json_schema["extra"]``). Validation is
    unchanged: constraints stay in their own ``Meta`` or ``__post_init__``."""
    return Meta(extra_json_schema={"extra": keywords})


def list_of(item_type: object) -> Meta:
    """A ``Meta`` stating the schema of a list's items, which litestar renders without the item type's
    constraints (lengths, pattern); msgspec renders them."""
    return schema(items=msgspec.json.schema(item_type))


class ClosedStructs(StructSchemaPlugin):
    """Documents a ``Struct`` with ``forbid_unknown_fields`` as ``additionalProperties: false`` (litestar leaves
    every object open, so a client reading the schema could not tell that an unknown field is a 400)."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return super().is_plugin_supported_field(field_definition) and bool(
            field_definition.type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        created = super().to_openapi_schema(field_definition, schema_creator)
        created.additional_properties = False
        return created
