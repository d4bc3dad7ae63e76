"""DESIGN decision 6 / issue 6: what Temporal stores is ciphertext.

A case is driven through the API (register, endorse, report, event, review), then its
history is read straight from the server with a plain client that has no codec -- as
anyone with access to Temporal's database or an over-broad UI login would see it. Every
payload must be sealed by our codec; only the search attributes, which Temporal must
index (DESIGN decision 5: ids, status and dates, never names), stay readable."""

from __future__ import annotations

import json
from collections.abc import Iterator

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from casework.codec import ENCRYPTED_ENCODING, KEY_ID_METADATA
from casework.config import SEARCH_ATTRIBUTES
from tests.api.conftest import (
    ApiClient,
    endorsement,
    new_case_id,
    registration,
    temporal_address,
    wait_idle,
)
from workflows.case_contract import (
    ARRIVAL_SERVICE_LATENCY,
    ENDORSE_AFTER_SCHEDULE,
    INPUT_LIMITS,
    KEEP_TIMER_ACROSS_MESSAGES,
    LEAN_HISTORY,
    LEAN_PERIODS,
    R6_UNDECIDED_PERIODS,
    RECORD_WHILE_AWAITING_ENDORSEMENT,
    REFUSE_CANCEL,
    REPORT_RECEIVED_AT,
    workflow_id_for,
)
from workflows.doors import DOORS_PATCH

PATCH_IDS = {DOORS_PATCH, INPUT_LIMITS, KEEP_TIMER_ACROSS_MESSAGES, R6_UNDECIDED_PERIODS,
             REPORT_RECEIVED_AT, RECORD_WHILE_AWAITING_ENDORSEMENT, ARRIVAL_SERVICE_LATENCY,
             LEAN_HISTORY, REFUSE_CANCEL, ENDORSE_AFTER_SCHEDULE, LEAN_PERIODS}

Path = tuple[str, ...]


def payloads_in(message: Message, path: Path = ()) -> Iterator[tuple[Path, Payload]]:
    """Every Payload anywhere in a protobuf message, with the field path leading to it."""
    if isinstance(message, Payload):
        yield path, message
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if isinstance(item, Message):
                    yield from payloads_in(item, (*path, field.name, str(key)))
        elif isinstance(value, Message):
            yield from payloads_in(value, (*path, field.name))
        else:  # a repeated message field
            for item in value:
                yield from payloads_in(item, (*path, field.name))


async def _drive_a_case(api: ApiClient) -> tuple[str, dict[str, object]]:
    case_id = new_case_id("cipher")
    body = registration(case_id, agency_id="agency-cipher")
    assert (await api.post("/cases", json=body)).status_code == 201
    assert (await api.post(f"/cases/{case_id}/endorsement", json=endorsement())
            ).status_code == 200
    await wait_idle(api, case_id)
    for path, message in ((f"/cases/{case_id}/reports", {"report_id": "rep-cipher"}),
                           (f"/cases/{case_id}/events", {"event_id": "evt-cipher",
                                                         "kind": "case_plan_deviation"}),
                           (f"/cases/{case_id}/reviews", {
                               "review_id": "rev-cipher", "kind": "case_plan",
                               "requested_by_role": "practitioner",
                               "reason": "Free text that stays in the database."})):
        response = await api.post(path, json=message)
        assert response.status_code == 201, response.text
        await wait_idle(api, case_id)
    return case_id, body


async def test_raw_history_holds_only_ciphertext(api: ApiClient,
                                                 temporal_env: WorkflowEnvironment) -> None:
    case_id, body = await _drive_a_case(api)
    plain = await Client.connect(temporal_address(temporal_env), namespace="default")
    history = await plain.get_workflow_handle(workflow_id_for(case_id)).fetch_history()
    found = [(path, payload) for event in history.events
             for path, payload in payloads_in(event)]

    indexed = [(p, pl) for p, pl in found if "search_attributes" in p]
    # Patch markers (workflow.patched) are written by the SDK's core, not through the
    # codec; they hold the patch id and a flag alone, no case data (issue 9.3's patch).
    # Local-activity markers (issue 13: the recording) carry core's own bookkeeping in
    # `data` (sequence, attempt, activity id and type, times) in clear; the activity's
    # result is a payload like any other, sealed by the codec (checked below).
    local = [(p, pl) for p, pl in found
             if p[0] == "marker_recorded_event_attributes" and p[1:3] == ("details", "data")]
    assert local, "recordings are local activities"
    for path, payload in local:
        assert json.loads(payload.data)["activity_type"] == "record_case_effects", path
        assert set(json.loads(payload.data)) <= {
            "seq", "attempt", "activity_id", "activity_type", "complete_time", "backoff",
            "original_schedule_time", "activation_index"}, payload.data
    markers = [(p, pl) for p, pl in found if p[0] == "marker_recorded_event_attributes"
               and (p, pl) not in local and p[1:3] != ("details", "result")]
    assert markers, "the patches a new case takes are recorded"
    for path, payload in markers:
        assert path[1:3] == ("details", "patch-data"), path
        assert payload.metadata["encoding"] == b"json/plain", path
        assert json.loads(payload.data) == {"id": json.loads(payload.data).get("id"),
                                            "deprecated": False}, path
        assert json.loads(payload.data)["id"] in PATCH_IDS, path
    sealed = [(p, pl) for p, pl in found
              if "search_attributes" not in p and (p, pl) not in markers + local]
    assert len(sealed) > 10, "inputs, update arguments and results, activity payloads"
    for path, payload in sealed:
        assert payload.metadata["encoding"] == ENCRYPTED_ENCODING, path
        assert payload.metadata[KEY_ID_METADATA] == b"k2", path
        assert set(payload.metadata) == {"encoding", KEY_ID_METADATA}, path
        for clear in (case_id, "agency-cipher", "rep-cipher", "evt-cipher", "rev-cipher",
                      body["contract_start"], body["contract_end"], body["child_birth_date"]):
            assert str(clear).encode() not in payload.data, (path, clear)
    # ... and TemporalChangeVersion, the SDK's own index of those patch ids.
    for path, payload in indexed:
        if path[-1] == "TemporalChangeVersion":
            assert set(json.loads(payload.data)) <= PATCH_IDS, payload.data
    assert {p[-1] for p, _ in indexed} <= {*SEARCH_ATTRIBUTES, "TemporalChangeVersion"}

    # Dates that are not indexed, and the free text, appear nowhere in the raw history.
    raw = b"".join(event.SerializeToString() for event in history.events)
    for clear in (str(body["child_birth_date"]), str(body["order_expiry"]),
                  "Free text that stays in the database.", "rep-cipher"):
        assert clear.encode() not in raw, clear

    # The same history read with the codec: the case is there, so the test is not blind.
    codec = temporal_env.client.data_converter.payload_codec
    assert codec is not None
    opened = await codec.decode([payload for _, payload in sealed])
    assert any(case_id.encode() in payload.data for payload in opened)
    assert any(b"rep-cipher" in payload.data for payload in opened)
