"""K1 with contacts recorded in the read model (issue 13, workflows/engine_contacts.py):
when the case reads them, what it takes from them, and when it wants the next contact
as a message instead. Pure: no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from models.effects import ContactSummary
from models.messages import RecordContact
from tests.unit.test_policy import make_terms
from workflows import engine_contacts as contacts
from workflows.engine import CaseEngine
from workflows.errors import CaseError
from workflows.state import ACTIVE, AWAITING_ENDORSEMENT, CLOSED, CLOSING, CaseState

START = date(2026, 1, 15)


def _state(status: str = ACTIVE, **contact_log: object) -> CaseState:
    state = CaseState(terms=make_terms(contact_frequency_days=14), status=status)
    state.contacts.from_read_model = True
    for name, value in contact_log.items():
        setattr(state.contacts, name, value)
    return state


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def test_k1_the_case_reads_recorded_contacts_only_when_a_check_falls_due() -> None:
    """The gap after the contract's start is checked at the end of day 14 (00:00 UTC on
    day 15): not due before, due from then; never for a case that takes contacts as
    messages (a run from before `lean-periods`)."""
    state = _state()
    check = contacts.gap_check_at(START, 14)
    assert check == _at(START + timedelta(days=15))
    assert not contacts.read_due(state, check - timedelta(seconds=1))
    assert contacts.read_due(state, check)
    state.contacts.from_read_model = False
    assert not contacts.read_due(state, check)


def test_k1_a_recorded_contact_moves_the_check_and_the_gap_is_raised_without_one() -> None:
    """At the check the case takes in what the read model knows: a later contact moves
    the next check (nothing raised); none leaves the gap, raised once (R7)."""
    engine = CaseEngine(_state())
    check = contacts.gap_check_at(START, 14)
    contacts.merge_recorded(engine.state, ContactSummary(
        count=2, last_contact_on=START + timedelta(days=10)))
    contacts.advance_contacts(engine, check)
    assert [e.kind for e in engine.pending.timeline] == []
    assert engine.state.contacts.count == 2
    assert contacts.read_due(engine.state, check) is False  # the next check is later
    moved = contacts.gap_check_at(START + timedelta(days=10), 14)
    contacts.merge_recorded(engine.state, ContactSummary(
        count=2, last_contact_on=START + timedelta(days=10)))
    contacts.advance_contacts(engine, moved)
    assert [e.detail["trigger"] for e in engine.pending.timeline
            if e.kind == "audit_trigger_raised"] == ["lack_of_client_contact"]
    assert not contacts.reads_recorded_contacts(engine.state)  # next contact: a message


def test_k1_what_the_read_model_knows_never_moves_the_state_back() -> None:
    state = _state(last_contact_on=date(2026, 3, 1), last_practitioner_meeting_on=date(
        2026, 2, 1), count=5)
    contacts.merge_recorded(state, ContactSummary(count=3, last_contact_on=date(2026, 2, 1),
                                                  last_practitioner_meeting_on=None))
    assert (state.contacts.count, state.contacts.last_contact_on,
            state.contacts.last_practitioner_meeting_on) == (5, date(2026, 3, 1),
                                                              date(2026, 2, 1))
    contacts.merge_recorded(state, ContactSummary(count=6, last_contact_on=date(2026, 3, 9),
                                                  last_practitioner_meeting_on=date(
                                                      2026, 3, 9)))
    assert (state.contacts.count, state.contacts.last_contact_on,
            state.contacts.last_practitioner_meeting_on) == (6, date(2026, 3, 9),
                                                              date(2026, 3, 9))


def test_k1_a_raised_gap_wants_the_next_contact_as_a_message() -> None:
    """Active with the current gap raised, no check is ahead until a new contact: it must
    come as a message, as before. Otherwise the read model will do -- also while the case
    awaits its endorsement (its first check is ahead) or is closing (no check runs)."""
    assert contacts.reads_recorded_contacts(_state())
    raised = _state(gap_raised_after=START)  # no contact yet: the gap counts from START
    assert not contacts.reads_recorded_contacts(raised)
    assert contacts.reads_recorded_contacts(_state(AWAITING_ENDORSEMENT, gap_raised_after=START))
    assert contacts.reads_recorded_contacts(_state(CLOSING, gap_raised_after=START))
    new_contact = _state(gap_raised_after=START, last_contact_on=START + timedelta(days=20))
    assert contacts.reads_recorded_contacts(new_contact)
    messages_only = _state()
    messages_only.contacts.from_read_model = False
    assert not contacts.reads_recorded_contacts(messages_only)


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({"kind": "telepathy"}, "kind", "K1"),
    ({"by_role": "parent"}, "by_role", "K1"),
    ({"occurred_on": date(2026, 6, 3)}, "occurred_on", "K1"),
    ({"occurred_on": START - timedelta(days=1)}, "occurred_on", "K1"),
])
def test_k1_a_contact_is_refused_the_same_way_by_either_door(
        change: dict[str, object], field: str, rule: str) -> None:
    """The read model's door (activities/contacts.py) and the update validator ask the
    same rules, in the same order."""
    message = RecordContact(**{"contact_id": "c-1", "occurred_on": date(2026, 5, 1),
                               "kind": "direct", "by_role": "agency", **change})  # type: ignore[arg-type]
    now = datetime(2026, 6, 1, tzinfo=UTC)
    refusal = contacts.contact_refusal(message, START, ACTIVE, now)
    assert refusal is not None and (refusal.field, refusal.rule) == (field, rule)
    with pytest.raises(CaseError) as raised:
        contacts.validate_contact(_state(), message, now)
    assert (raised.value.field, raised.value.message) == (refusal.field, refusal.message)
    closed = contacts.contact_refusal(RecordContact("c-2", date(2026, 5, 1), "direct",
                                                    "agency"), START, CLOSED, now)
    assert closed is not None and (closed.field, closed.rule) == ("status", "E2")
