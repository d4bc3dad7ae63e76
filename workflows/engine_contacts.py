"""K1: contact with the child, as time passes and as contacts are recorded.

Direct (in-person) contact is expected at the case plan's frequency (fortnightly by
default); a longer gap is evidence of lack of client contact (R7), raised once per gap, and a year
without the practitioner meeting the child opens a task. Pure: no I/O, no Temporal.

Since issue 13 (patch `lean-periods`) a contact is recorded in the read model without a
message to the case (activities/contacts.py), and the case reads the latest
(`merge_recorded`) whenever a contact check falls due (`read_due`), before deciding:
each check decides on the same contacts as if every one had come as a message, which
still works (the Temporal door) and is recorded in the read model too. While a gap is
raised no check is due until a new contact, so then a contact must come as a message,
as before: the case's row says which way it wants them (`reads_recorded_contacts`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from models.effects import ContactEntry, ContactSummary
from models.messages import ContactRecorded, RaiseEvent, RecordContact
from workflows import policy
from workflows.engine import CaseEngine, Wakeup
from workflows.engine_audits import apply_event
from workflows.errors import CaseError, conflict, invalid
from workflows.idempotency import answered_once
from workflows.outbox import Pending
from workflows.state import ACTIVE, CLOSED, CaseState

PRACTITIONER_MEETING_MONTHS = 12  # K1: the practitioner meets the child once a year
IN_PERSON_KINDS = frozenset({"direct", "home_visit", "practitioner_visit"})
"""K1 expects *direct* contact: only these close a contact gap or count as the yearly
practitioner meeting. Calls are recorded on the timeline but do not."""
CONTACT_KINDS = IN_PERSON_KINDS | {"phone", "video"}


# ---------------------------------------------------------------- time passing
def day_end(day: date) -> datetime:
    """K1 checks are day-granular; they run at 00:00 UTC after the day (mid-morning in
    Australia), which is early enough and needs no time zone inside the workflow."""
    return datetime.combine(day + timedelta(days=1), time(0), UTC)


def _contact_anchor(state: CaseState) -> date:
    """Gaps count from the later of the contract start and its endorsement."""
    start = state.terms.contract_start
    if state.endorsement is not None:
        start = max(start, state.endorsement.endorsed_on)
    return start


def _last_contact(state: CaseState) -> date:
    return state.contacts.last_contact_on or _contact_anchor(state)


def _last_meeting(state: CaseState) -> date:
    return state.contacts.last_practitioner_meeting_on or _contact_anchor(state)


def _contact_checks(state: CaseState) -> tuple[datetime | None, datetime | None]:
    """When the current contact gap and practitioner-meeting gap become too long; None
    once that gap has been raised."""
    contacts = state.contacts
    last, meeting = _last_contact(state), _last_meeting(state)
    gap_check = None
    if contacts.gap_raised_after != last:
        gap_check = gap_check_at(last, state.terms.contact_frequency_days)
    meeting_check = None
    if contacts.meeting_task_after != meeting:
        meeting_check = day_end(policy.add_months(meeting, PRACTITIONER_MEETING_MONTHS))
    return gap_check, meeting_check


def advance_contacts(engine: CaseEngine, now: datetime) -> None:
    """K1: a gap longer than the case plan's contact frequency is evidence of lack of
    client contact (R7), raised once per gap; a year without the practitioner meeting
    the child opens a task."""
    state = engine.state
    if state.status != ACTIVE:
        return
    gap_check, meeting_check = _contact_checks(state)
    contacts = state.contacts
    if gap_check is not None and now >= gap_check:
        last = _last_contact(state)
        contacts.gap_raised_after = last
        apply_event(engine, RaiseEvent(event_id=f"k1-gap-after-{last.isoformat()}",
                                       kind="lack_of_client_contact", raised_by="K1 monitor"),
                    now)
    if meeting_check is not None and now >= meeting_check:
        meeting = _last_meeting(state)
        contacts.meeting_task_after = meeting
        engine.open_task(f"{engine.case_id}:k1-meeting-after-{meeting.isoformat()}",
                         "practitioner_meeting", "K1",
                         "No practitioner meeting with the child in 12 months: arrange one",
                         "practitioner", now)


def contact_wakeups(state: CaseState) -> list[Wakeup]:
    """When the current contact gap or practitioner-meeting gap becomes too long."""
    if state.status != ACTIVE:
        return []
    gap_check, meeting_check = _contact_checks(state)
    found: list[Wakeup] = []
    if gap_check is not None:
        found.append(Wakeup(gap_check, "contact_gap", None))
    if meeting_check is not None:
        found.append(Wakeup(meeting_check, "practitioner_meeting", None))
    return found


def gap_check_at(last_contact: date, frequency_days: int) -> datetime:
    """K1: when a gap after `last_contact` becomes longer than the case plan allows."""
    return day_end(last_contact + timedelta(days=frequency_days))


def read_due(state: CaseState, now: datetime) -> bool:
    """Issue 13: whether the case must read its recorded contacts before acting now: a
    contact check has fallen due."""
    return state.contacts.from_read_model and any(
        w.at <= now for w in contact_wakeups(state))


def known_last_contact(state: CaseState) -> date:
    """The day K1's gap counts from, as the case knows it (the contract's start or its
    endorsement before any contact)."""
    return _last_contact(state)


def reads_recorded_contacts(state: CaseState) -> bool:
    """Issue 13: whether a contact recorded in the read model reaches the case's rules
    in time -- the case reads them (`from_read_model`) and a contact check is ahead --
    so the API may record one there rather than send it. Not while the case is active
    with the current gap raised: no check is then due until a new contact, which must
    come as a message, as before (the case's row says so: `cases.reads_recorded_contacts`).
    While it awaits its endorsement the first check is ahead; once it is closing no
    check runs (a contact changes no decision)."""
    contacts = state.contacts
    if not contacts.from_read_model:
        return False
    return state.status != ACTIVE or contacts.gap_raised_after != _last_contact(state)


def merge_recorded(state: CaseState, recorded: ContactSummary) -> None:
    """What the read model knows of the case's contacts (every one recorded, whichever
    way it came), taken into the state: a later contact moves the next check."""
    contacts = state.contacts
    contacts.count = max(contacts.count, recorded.count)
    if recorded.last_contact_on is not None and (
            contacts.last_contact_on is None
            or recorded.last_contact_on > contacts.last_contact_on):
        contacts.last_contact_on = recorded.last_contact_on
    meeting = recorded.last_practitioner_meeting_on
    if meeting is not None and (contacts.last_practitioner_meeting_on is None
                                or meeting > contacts.last_practitioner_meeting_on):
        contacts.last_practitioner_meeting_on = meeting


# ------------------------------------------------------------------- contacts
def contact_key(message: RecordContact) -> str:
    return f"contact:{message.contact_id}"


def validate_contact(state: CaseState, message: RecordContact, now: datetime) -> None:
    if not message.contact_id.strip():
        raise invalid("contact_id must not be empty.", field="contact_id")
    if contact_key(message) in state.answered:
        return
    refusal = contact_refusal(message, state.terms.contract_start, state.status, now)
    if refusal is not None:
        raise refusal


def contact_refusal(message: RecordContact, contract_start: date, status: str,
                    now: datetime) -> CaseError | None:
    """K1, E2: why a (new) contact cannot be recorded, if it cannot -- for the update
    validator and for the read model's own door (activities/contacts.py)."""
    if message.kind not in CONTACT_KINDS:
        return invalid(f"kind must be one of {', '.join(sorted(CONTACT_KINDS))}.",
                       field="kind", rule="K1")
    if message.by_role not in ("agency", "practitioner"):
        return invalid("by_role must be agency or practitioner.", field="by_role", rule="K1")
    if message.occurred_on > now.date() + timedelta(days=1):
        return invalid("A contact cannot be recorded in the future.", field="occurred_on",
                       rule="K1")
    if message.occurred_on < contract_start:
        return invalid("The contact is before the contract started.", field="occurred_on",
                       rule="K1")
    if status == CLOSED:
        return conflict("The case is closed.", field="status", rule="E2")
    return None


def contact_entry(message: RecordContact, now: datetime) -> ContactEntry:
    """The contact as the read model's `contacts` table keeps it."""
    return ContactEntry(message.contact_id, message.occurred_on, message.kind,
                        message.by_role, now, message.by)


def contact_recorded_event(pending: Pending, case_id: str, message: RecordContact,
                           now: datetime) -> None:
    """The contact's timeline entry, the same whichever way it was recorded."""
    pending.event(case_id, f"contact:{message.contact_id}", now, "contact_recorded", "K1",
                  contact_id=message.contact_id, occurred_on=message.occurred_on.isoformat(),
                  contact_kind=message.kind, by_role=message.by_role)


@answered_once(contact_key, ContactRecorded)
def apply_contact(engine: CaseEngine, message: RecordContact, now: datetime
                  ) -> ContactRecorded:
    state = engine.state
    contacts = state.contacts
    contacts.count += 1
    in_person = message.kind in IN_PERSON_KINDS
    if in_person and (contacts.last_contact_on is None
                      or message.occurred_on > contacts.last_contact_on):
        contacts.last_contact_on = message.occurred_on
    if in_person and message.by_role == "practitioner" and (
            contacts.last_practitioner_meeting_on is None
            or message.occurred_on > contacts.last_practitioner_meeting_on):
        contacts.last_practitioner_meeting_on = message.occurred_on
    contact_recorded_event(engine.pending, engine.case_id, message, now)
    engine.pending.contacts.append(contact_entry(message, now))
    result = ContactRecorded(contact_id=message.contact_id, occurred_on=message.occurred_on)
    return result
