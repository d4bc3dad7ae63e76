"""Registering a case contract (`POST /cases`): validate, start the workflow, and put the
case in the read model at once so lists show it before the workflow's first record.

Repeat-safe on the case id: the same terms again answer with the existing case (200);
different terms under the same id are refused (409). The terms fingerprint
(workflows/fingerprint.py) tells the two apart.

Once the workflow has started, the registration has taken effect, so nothing after it
may answer 5xx (issue 18.3): the answer's view falls back to the read model when the
workflow does not answer its status query in time (a worker backlog), and a listing
that cannot be written (the database failing) answers 202 -- the workflow's own first
record lists the case.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from activities.upsert import upsert
from api.case_gateway import CaseGateway
from api.case_views import case_view, read_model_view
from api.closures import closure_changed
from api.errors import Conflict, ProblemError, ServiceUnavailable, Unprocessable
from api.permissions import Caller
from api.schemas import CaseView
from api.scoping import visible_case
from models.tables import CalendarClosureRow, CaseRow
from models.terms import ContractTerms
from workflows import policy
from workflows.business_calendar import (
    BusinessCalendar,
    CalendarSpec,
    UnknownJurisdiction,
    closure_scopes,
)
from workflows.case_contract import CaseContractWorkflow, workflow_id_for
from workflows.fingerprint import terms_fingerprint
from workflows.prior_outcomes import check_prior_outcomes
from workflows.state import AWAITING_ENDORSEMENT


def check_calendar(terms: ContractTerms) -> None:
    """Refuse a time zone or jurisdiction the schedule activity could not use: it would
    retry for ever and the case would never get its deadlines (R1-R3)."""
    try:
        ZoneInfo(terms.time_zone)
    # OSError: a tz database directory ("America") or an over-long name; it used to
    # escape as "database unreachable" (issue 9).
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise Unprocessable(f"Unknown time zone {terms.time_zone!r}.", field="time_zone",
                            rule="input") from exc
    check_jurisdiction(terms.jurisdiction)


def check_jurisdiction(jurisdiction: str) -> None:
    """422 unless the business calendar -- the one the schedule activity builds -- knows
    the jurisdiction ("AU" or "AU-<state>"): one source of truth, so nothing accepted
    here can fail there."""
    try:
        BusinessCalendar(CalendarSpec(jurisdiction=jurisdiction))
    except UnknownJurisdiction as exc:
        raise Unprocessable(f"{exc} (no public-holiday calendar for it).",
                            field="jurisdiction", rule="input") from exc


def _different_terms(case_id: str) -> Conflict:
    return Conflict(f"Case {case_id!r} is registered with different terms; a changed "
                    "contract goes through a review (V5).", field="case_id")


class Registration(Enum):
    """How a registration ended: the route's status code."""

    CREATED = 201
    REPEATED = 200
    ACCEPTED = 202
    """The workflow started (now or before) but the listing could not be written."""


async def register(session: AsyncSession, gateway: CaseGateway, terms: ContractTerms,
                   prior_outcomes: Sequence[str] = ()) -> Registration:
    """CREATED when the case was registered now, REPEATED when this repeats a
    registration, ACCEPTED when its workflow runs but the database failed to list it.
    Raises PolicyViolation (C1-C5, R5 for `prior_outcomes`, 422) or Conflict (409).
    `prior_outcomes`: a contract taken on part-way through (workflows/prior_outcomes.py);
    not part of the terms' fingerprint."""
    check_calendar(terms)
    # E1 against the case's own today: a contract already over is refused (issue 9).
    today = datetime.now(ZoneInfo(terms.time_zone)).date()
    due_dates = policy.validate_terms(terms, today=today)
    check_prior_outcomes(due_dates, prior_outcomes, today)
    fingerprint = terms_fingerprint(terms)
    row = await session.get(CaseRow, terms.case_id)
    if row is not None:
        if row.terms_fingerprint != fingerprint:
            raise _different_terms(terms.case_id)
        return Registration.REPEATED
    # The workflow first, then the row: a row must never exist without its workflow, or a
    # retry would answer 200 for a case that was never started.
    starting = datetime.now(UTC)
    started = await gateway.start(terms, prior_outcomes)
    if not started:
        # Compared with the terms in the workflow's history, not through its status
        # query: a worker backlog must not turn a repeat into a 503 (issue 18.3).
        if await gateway.started_fingerprint(terms.case_id) != fingerprint:
            raise _different_terms(terms.case_id)
    try:
        await _list(session, terms, fingerprint)
    except (OperationalError, DBAPIError, OSError):
        # The case exists and runs: say so (202), never "failed" (issue 18.3). Its first
        # record writes the row; the same registration again is safe meanwhile.
        log.warning("case %s started but not listed (database error)", terms.case_id,
                    exc_info=True)
        with suppress(OperationalError, DBAPIError, OSError):
            await session.rollback()
        return Registration.ACCEPTED
    if started:
        try:
            await _tell_of_recent_closures(session, gateway, terms, starting)
        except (OperationalError, DBAPIError, OSError):
            # Registered all the same; declaring the closure again tells every case.
            log.warning("case %s not checked for recent closures (database error)",
                        terms.case_id, exc_info=True)
    return Registration.CREATED if started else Registration.REPEATED


REGISTRATION_VIEW_TIMEOUT = timedelta(seconds=3)
"""How long the answer to a registration waits for the workflow's live status before
showing the read model's row instead (issue 18.3: the case exists either way)."""


async def registered_view(session: AsyncSession, gateway: CaseGateway, case_id: str,
                          caller: Caller) -> CaseView | None:
    """The case as GET shows it; when its workflow does not answer in time (a worker
    backlog), the read model's row (`source: read_model`); None when the database
    cannot be read either (the route answers 202) -- never a 503 for a case that
    exists."""
    try:
        try:
            return await case_view(session, gateway, case_id, caller,
                                   status_timeout=REGISTRATION_VIEW_TIMEOUT)
        except ServiceUnavailable as exc:
            if exc.extra.get("component") != "temporal":
                raise
            return await read_model_view(session, await visible_case(session, caller,
                                                                      case_id))
    except (OperationalError, DBAPIError, OSError):
        log.warning("case %s registered; its view could not be read", case_id,
                    exc_info=True)
        with suppress(OperationalError, DBAPIError, OSError):
            await session.rollback()
        return None


async def _list(session: AsyncSession, terms: ContractTerms, fingerprint: str) -> None:
    """The case's read-model row, so lists show it at once."""
    now = datetime.now(UTC)
    # Insert only: the workflow's own record (activities/read_model.py) may already be
    # there and knows more.
    await upsert(session, CaseRow, [{
        "case_id": terms.case_id, "agency_id": terms.agency_id,
        "jurisdiction": terms.jurisdiction, "status": AWAITING_ENDORSEMENT,
        "workflow_id": workflow_id_for(terms.case_id),
        "contract_start": terms.contract_start, "contract_end": terms.contract_end,
        "order_expiry": terms.order_expiry, "next_deadline": None,
        "next_deadline_kind": None, "overdue": False, "consecutive_failures": 0,
        "audit_open": False, "terms_fingerprint": fingerprint, "snapshot": {},
        "created_at": now, "updated_at": now, "closed_at": None,
    }], ["case_id"], update=[])
    await session.commit()


log = logging.getLogger("casework.registration")

RECENT_CLOSURE_MARGIN = timedelta(minutes=1)
"""Covers clock differences between API hosts; a closure told twice recomputes once."""


async def _tell_of_recent_closures(session: AsyncSession, gateway: CaseGateway,
                                   terms: ContractTerms, starting: datetime) -> None:
    """A closure declared while this case started may be missed twice over: the
    workflow's schedule read the closures just before it was stored, and the calendar
    route listed running cases just before this row existed. Closures stored since the
    start (less a margin) are therefore sent to the case now: if the route missed the
    row, its closure was stored before the row, so this query, after the row, finds it."""
    recent = (await session.scalars(select(CalendarClosureRow).where(
        CalendarClosureRow.jurisdiction.in_(closure_scopes(terms.jurisdiction)),
        CalendarClosureRow.created_at >= starting - RECENT_CLOSURE_MARGIN,
        # Only days that can move one of its deadlines (R3 runs past the last due date).
        CalendarClosureRow.day >= terms.contract_start,
        CalendarClosureRow.day <= max(terms.contract_end, terms.order_expiry)
        + timedelta(days=60)))).all()
    for closure in recent:
        try:
            await gateway.signal(terms.case_id, CaseContractWorkflow.calendar_changed,
                                 closure_changed(closure.jurisdiction, closure.day))
        except ProblemError:
            # The case is registered: answer so. Declaring the closure again (its route
            # is repeat-safe) tells every running case, this one included.
            log.warning("case %s not told of closure %s %s (Temporal unavailable)",
                        terms.case_id, closure.jurisdiction, closure.day)

