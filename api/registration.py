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
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from activities.case_listing import list_new_case
from api.case_gateway import CaseGateway
from api.case_views import case_view, read_model_view, view_from_rows
from api.errors import Conflict, ServiceUnavailable, Unprocessable
from api.permissions import Caller
from api.schemas import CaseView
from api.scoping import visible_case
from models.schedule import CaseListing
from models.tables import CaseRow
from models.terms import ContractTerms
from workflows import policy
from workflows.business_calendar import BusinessCalendar, CalendarSpec, UnknownJurisdiction
from workflows.fingerprint import terms_fingerprint
from workflows.prior_outcomes import check_prior_outcomes


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


@dataclass(frozen=True)
class Registered:
    outcome: Registration
    row: CaseRow | None = None
    """The row listed by this request, for the answer's view (not read again)."""


async def register(session: AsyncSession, gateway: CaseGateway, terms: ContractTerms,
                   prior_outcomes: Sequence[str] = ()) -> Registered:
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
        return Registered(Registration.REPEATED, row)
    # The workflow first, then the row: a row must never exist without its workflow, or a
    # retry would answer 200 for a case that was never started.
    started = await gateway.start(terms, prior_outcomes)
    if not started:
        # Compared with the terms in the workflow's history, not through its status
        # query: a worker backlog must not turn a repeat into a 503 (issue 18.3).
        if await gateway.started_fingerprint(terms.case_id) != fingerprint:
            raise _different_terms(terms.case_id)
    try:
        # The answer's view uses the row inserted here rather than read it again. A
        # closure declared meanwhile is the first schedule's concern, not ours
        # (activities/case_listing.py).
        listed = await list_new_case(session, terms.case_id, terms.jurisdiction, CaseListing(
            agency_id=terms.agency_id, contract_start=terms.contract_start,
            contract_end=terms.contract_end, order_expiry=terms.order_expiry,
            terms_fingerprint=fingerprint))
        await session.commit()
    except (OperationalError, DBAPIError, OSError):
        # The case exists and runs: say so (202), never "failed" (issue 18.3). Its first
        # record writes the row; the same registration again is safe meanwhile.
        log.warning("case %s started but not listed (database error)", terms.case_id,
                    exc_info=True)
        with suppress(OperationalError, DBAPIError, OSError):
            await session.rollback()
        return Registered(Registration.ACCEPTED)
    return Registered(Registration.CREATED if started else Registration.REPEATED, listed)


def new_case_view(terms: ContractTerms, row: CaseRow) -> CaseView:
    """The answer to a registration that started the case now: what the registration
    itself knows -- the terms and the row it listed -- without asking the workflow, so a
    worker backlog can neither hold up nor fail a registration (issue 13). `periods` is
    empty: the instants are the workflow's to compute (R1-R3, from the holiday calendar
    and declared closures, in its first schedule); `GET /cases/{id}` shows them."""
    view = view_from_rows(row, [], [], [])
    view.time_zone, view.phase = terms.time_zone, str(terms.phase)
    return view


REGISTRATION_VIEW_TIMEOUT = timedelta(seconds=3)
"""How long the answer to a repeated registration waits for the workflow's live status
before showing the read model's row instead (issue 18.3: the case exists either way)."""


async def registered_view(session: AsyncSession, gateway: CaseGateway, case_id: str,
                          caller: Caller, row: CaseRow | None = None) -> CaseView | None:
    """The case as GET shows it; when its workflow does not answer in time (a worker
    backlog), the read model's row (`source: read_model`); None when the database
    cannot be read either (the route answers 202) -- never a 503 for a case that
    exists."""
    try:
        try:
            return await case_view(session, gateway, case_id, caller,
                                   status_timeout=REGISTRATION_VIEW_TIMEOUT, row=row)
        except ServiceUnavailable as exc:
            if exc.extra.get("component") != "temporal":
                raise
            return await read_model_view(session, await visible_case(
                session, caller, case_id, row))
    except (OperationalError, DBAPIError, OSError):
        log.warning("case %s registered; its view could not be read", case_id,
                    exc_info=True)
        with suppress(OperationalError, DBAPIError, OSError):
            await session.rollback()
        return None


log = logging.getLogger("casework.registration")
