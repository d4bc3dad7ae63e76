"""A new case's first read-model row, written by whichever comes first: the API as it
answers `POST /cases` (so lists show the case at once), or the case's first schedule
activity. Insert-only: the workflow's own record (activities/read_model.py) knows more
and is never overwritten.

Why the schedule activity lists the case too: declaring a closure day (`POST
/calendar/closures`) stores the day, then lists the running cases and tells each one. A
case registered at that moment could be missed twice over -- its schedule read the
closures just before the day was stored, and the route listed the cases just before
its row existed. The activity therefore lists the case and commits *before* it reads
the closures: if the route's listing missed the row, the route stored its day before
that listing, so before the activity's read, which sees it. (The API used to check for
closures stored since the start after listing the case: one more round trip on every
registration, issue 13.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.schedule import CaseListing
from models.tables import CaseRow
from workflows.case_contract import workflow_id_for
from workflows.state import AWAITING_ENDORSEMENT


def first_row(case_id: str, jurisdiction: str, listing: CaseListing,
              now: datetime) -> dict[str, Any]:
    """The row of a case registered and not yet endorsed (C4: no deadline runs)."""
    return {
        "case_id": case_id, "agency_id": listing.agency_id, "jurisdiction": jurisdiction,
        "status": AWAITING_ENDORSEMENT, "workflow_id": workflow_id_for(case_id),
        "contract_start": listing.contract_start, "contract_end": listing.contract_end,
        "order_expiry": listing.order_expiry, "next_deadline": None,
        "next_deadline_kind": None, "overdue": False, "consecutive_failures": 0,
        "audit_open": False, "terms_fingerprint": listing.terms_fingerprint,
        "snapshot": {}, "created_at": now, "updated_at": now, "closed_at": None,
    }


async def list_new_case(session: AsyncSession, case_id: str, jurisdiction: str,
                        listing: CaseListing) -> CaseRow | None:
    """Insert the case's first row unless it has one; the row inserted now (kept in the
    session, so reading it again costs nothing), or None when it was there already.
    One statement: it commits on its own in an autocommit session."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(CaseRow)
                 .values(first_row(case_id, jurisdiction, listing, datetime.now(UTC)))
                 .on_conflict_do_nothing(index_elements=["case_id"])
                 .returning(CaseRow))
    inserted: CaseRow | None = (await session.scalars(statement)).one_or_none()
    return inserted
