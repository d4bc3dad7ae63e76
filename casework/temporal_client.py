"""Connecting to Temporal with the project's data converter, and registering the
custom search attributes (DESIGN decision 5).

Every client -- API, worker, CLI, tests -- goes through `connect` so they all share the
pydantic data converter (needed for `date` values) and the payload codec.
"""

from __future__ import annotations

import dataclasses

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec
from temporalio.service import RPCError, RPCStatusCode

from casework.config import SEARCH_ATTRIBUTES, Settings

_INDEXED_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
}


def make_data_converter(codec: PayloadCodec | None = None) -> DataConverter:
    """The pydantic converter, optionally wrapped with the encryption codec."""
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)


async def connect(settings: Settings, codec: PayloadCodec | None = None) -> Client:
    return await Client.connect(
        settings.effective_temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=make_data_converter(codec),
    )


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register the missing custom search attributes; returns the names it added.

    Idempotent, so `casework dev` can call it on every start and a real cluster can be
    prepared with the same code.
    """
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes)
    except RPCError as exc:
        # The time-skipping test server can add search attributes but not list them.
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {
        name: _INDEXED_TYPES[kind]
        for name, kind in SEARCH_ATTRIBUTES.items()
        if name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)
