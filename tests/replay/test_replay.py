"""Replay the recorded histories (issue 3): a change to the workflow that would make a
running case take a different path than the one its history recorded fails here, not
in production. Histories come from tests/replay/record_histories.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from casework.temporal_client import make_data_converter
from models.envelope import install_keys
from tests.replay.record_histories import recorded_workflow_id
from tests.workflows.conftest import TEST_CALLER_KEYS
from worker import sandbox_runner
from workflows.case_contract import CaseContractWorkflow
from workflows.coworking import CoworkingWorkflow
from workflows.dispute import DisputeWorkflow
from workflows.doors import DoorsInterceptor
from workflows.service_request import ServiceRequestWorkflow
from workflows.transfer import TransferRequestWorkflow

WORKFLOWS = [CaseContractWorkflow, TransferRequestWorkflow, ServiceRequestWorkflow,
             DisputeWorkflow, CoworkingWorkflow]

HISTORIES = sorted((Path(__file__).resolve().parent.parent / "histories").glob("*.json"))
_TEXTS = {path: path.read_text() for path in HISTORIES}


def test_histories_are_checked_in() -> None:
    """Every scenario of the recorder is present, including continued runs."""
    names = {path.name.rsplit("-run", 1)[0] for path in HISTORIES}
    assert names == {"reporting-cycle", "reviews-contacts-closure", "continue-as-new",
                     "four-weekly-renewal", "awaiting-endorsement", "lean-history",
                     "lean-periods",
                     # T1-T4 (issue 14): one workflow of each district request kind.
                     "transfer-request", "service-request", "dispute-ladder",
                     "coworking-reviews"}
    assert sum(1 for p in HISTORIES if p.name.startswith("continue-as-new")) >= 3
    assert sum(1 for p in HISTORIES if p.name.startswith("coworking-reviews")) >= 3


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays_without_nondeterminism(path: Path) -> None:
    install_keys(TEST_CALLER_KEYS)  # the recorder's envelopes (issue 10), as a worker has
    text = _TEXTS[path]
    # Histories do not carry the workflow id; the recorder's ids are replay-<name>.
    workflow_id = recorded_workflow_id(path.name.rsplit("-run", 1)[0])
    # With the doors interceptor, as build_worker installs it: it hands the workflow each
    # message's caller envelope (issue 10), which histories recorded since then carry.
    replayer = Replayer(workflows=WORKFLOWS, data_converter=make_data_converter(),
                        workflow_runner=sandbox_runner(strict=True),
                        interceptors=[DoorsInterceptor()])
    result = await replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, text),
                                            raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


def test_the_pre_patch_history_has_no_patch_marker() -> None:
    """`awaiting-endorsement` must stay a recording by the code before the patch
    `record-while-awaiting-endorsement` (no marker in it), or its replay proves nothing."""
    path = next(p for p in HISTORIES if p.name == "awaiting-endorsement-run1.json")
    history = WorkflowHistory.from_json("any", _TEXTS[path])
    markers = [e for e in history.events if e.HasField("marker_recorded_event_attributes")]
    assert markers == []



def test_the_lean_history_recording_takes_the_issue_13_path() -> None:
    """`lean-history` must stay a recording by the code of the `lean-history` patch
    (issue 13): recordings as local activities, that one patch marker in the first run
    and none in the continued ones -- or its replay proves nothing about that path."""
    runs = sorted((p for p in HISTORIES if p.name.startswith("lean-history-run")),
                  key=lambda p: int(p.stem.rsplit("-run", 1)[1]))
    assert len(runs) >= 3
    for number, path in enumerate(runs, 1):
        history = WorkflowHistory.from_json("any", _TEXTS[path])
        markers = [e.marker_recorded_event_attributes for e in history.events
                   if e.HasField("marker_recorded_event_attributes")]
        names = [m.marker_name for m in markers]
        assert "core_local_activity" in names, path.name
        assert not any(e.HasField("activity_task_scheduled_event_attributes")
                       and e.activity_task_scheduled_event_attributes.activity_type.name
                       == "record_case_effects" for e in history.events), path.name
        expected = 1 if number == 1 else 0
        assert names.count("core_patch") == expected, path.name


def _markers(path: Path) -> list[str]:
    """Each marker of the recording: the id of a patch, else the local activity it
    records."""
    history = WorkflowHistory.from_json("any", _TEXTS[path])
    found = []
    for event in history.events:
        if not event.HasField("marker_recorded_event_attributes"):
            continue
        marker = event.marker_recorded_event_attributes
        raw = marker.SerializeToString()
        if marker.marker_name == "core_patch":
            found.append(json.loads(marker.details["patch-data"].payloads[0].data)["id"])
        else:
            found.append("read_contacts" if b"read_contacts" in raw else "record")
    return found


def test_the_lean_periods_recording_takes_the_issue_13_second_path() -> None:
    """`lean-periods` must stay a recording by the code of the `lean-periods` patch (issue
    13): the first run asks it (with the two patches it does not imply), reads recorded
    K1 contacts with a local activity and takes the contact after a raised gap as an
    update; no continued run asks a patch -- or its replay proves nothing about that
    path."""
    runs = sorted((p for p in HISTORIES if p.name.startswith("lean-periods-run")),
                  key=lambda p: int(p.stem.rsplit("-run", 1)[1]))
    assert len(runs) >= 3
    first = _markers(runs[0])
    assert first[:3] == ["lean-history", "refuse-temporal-cancel", "lean-periods"]
    assert first.count("read_contacts") >= 2
    history = WorkflowHistory.from_json("any", _TEXTS[runs[0]])
    assert "record_contact" in [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")]
    for path in runs[1:]:
        assert set(_markers(path)) <= {"record", "read_contacts"}, path.name
