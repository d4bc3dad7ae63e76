"""Replay the recorded histories (issue 3): a change to the workflow that would make a
running case take a different path than the one its history recorded fails here, not
in production. Histories come from tests/replay/record_histories.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from casework.temporal_client import make_data_converter
from tests.replay.record_histories import recorded_workflow_id
from worker import sandbox_runner
from workflows.case_contract import CaseContractWorkflow
from workflows.coworking import CoworkingWorkflow
from workflows.dispute import DisputeWorkflow
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
                     "four-weekly-renewal", "awaiting-endorsement",
                     # T1-T4 (issue 14): one workflow of each district request kind.
                     "transfer-request", "service-request", "dispute-ladder",
                     "coworking-reviews"}
    assert sum(1 for p in HISTORIES if p.name.startswith("continue-as-new")) >= 3
    assert sum(1 for p in HISTORIES if p.name.startswith("coworking-reviews")) >= 3


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays_without_nondeterminism(path: Path) -> None:
    text = _TEXTS[path]
    # Histories do not carry the workflow id; the recorder's ids are replay-<name>.
    workflow_id = recorded_workflow_id(path.name.rsplit("-run", 1)[0])
    replayer = Replayer(workflows=WORKFLOWS, data_converter=make_data_converter(),
                        workflow_runner=sandbox_runner(strict=True))
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

