"""Bodies of Temporal's remote codec protocol (`/codec/encode`, `/codec/decode`): the
proto3 JSON of `temporal.api.common.v1.Payloads`, typed so generated clients (and the
Temporal UI's maintainers) see its shape (issue 12). The protobuf parser in
casework/codec.py stays the judge of the content (valid base64, known fields)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CodecPayload(BaseModel):
    """One payload: bytes as base64 strings. Other proto3 fields (`externalPayloads`)
    pass through untouched."""

    model_config = ConfigDict(extra="allow")

    metadata: dict[str, str] = Field(default_factory=dict, description="Header name to "
                                     "base64 bytes, e.g. `encoding`.")
    data: str = Field(default="", description="The payload's bytes, base64.")


class CodecPayloads(BaseModel):
    """A list of payloads, in the order the Temporal UI or CLI sent them."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"payloads": [{
        "metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "eyJjYXNlX2lkIjoiY2FzZS0xIn0="}]}]})

    payloads: list[CodecPayload] = Field(default_factory=list)
