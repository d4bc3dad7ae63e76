"""Free text kept in the database, out of workflow history (DESIGN decision 6).

A route that carries text (audit findings, review reasons, closure summaries) checks
and writes the note first, commits it, and only then sends the workflow the note's id:
once the workflow has the message, nothing is left to fail (issue 18.3), and the
workflow never refers to text that was not stored. Ids are derived from the client's
id for the message, so a retry writes the same row, and the same id with a different
text is a conflict (409) rather than a silent overwrite of what someone recorded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from activities.upsert import upsert
from api.errors import Conflict, ProblemError
from models.tables import NoteRow

R = TypeVar("R")


def note_id(case_id: str, kind: str, key: str) -> str:
    return f"{case_id}:{kind}:{key}"


async def check_note(session: AsyncSession, note: str, case_id: str, text: str,
                     field: str) -> bool:
    """True when the note exists with this text (a retry); 409 when it differs."""
    existing = await session.get(NoteRow, note)
    if existing is None:
        return False
    if existing.case_id != case_id or existing.text != text:
        raise Conflict(f"{field} was already recorded with a different text; use a new id "
                       "to record another.", field=field)
    return True


async def put_note(session: AsyncSession, *, note: str, case_id: str, kind: str, text: str,
                   author: str, field: str, subject_id: str | None = None) -> None:
    """Insert the note unless it is there; a concurrent writer with another text -> 409."""
    await upsert(session, NoteRow, [{
        "note_id": note, "case_id": case_id, "kind": kind, "subject_id": subject_id,
        "text": text, "author": author, "created_at": datetime.now(UTC),
    }], ["note_id"], update=[])
    await check_note(session, note, case_id, text, field)


@dataclass(frozen=True)
class NoteDraft:
    note_id: str
    kind: str
    text: str
    field: str
    subject_id: str | None = None


async def recorded_with_notes(session: AsyncSession, case_id: str, author: str,
                              drafts: list[NoteDraft], send: Callable[[], Awaitable[R]]) -> R:
    """Write the notes and commit, then send the message (which carries only their
    ids). Before, the notes were committed after the message: a database failing then
    answered 503 for a change the workflow had made, and left it pointing at text never
    stored (issue 18.3). Now a database failure comes first and means nothing happened.
    A message the workflow refuses (4xx) takes back the notes this request added, so a
    refusal still leaves none behind; one Temporal did not take (5xx) leaves them for
    the retry, which finds the same text."""
    added = [draft for draft in drafts
             if not await check_note(session, draft.note_id, case_id, draft.text,
                                     draft.field)]
    for draft in added:
        await put_note(session, note=draft.note_id, case_id=case_id, kind=draft.kind,
                       text=draft.text, author=author, field=draft.field,
                       subject_id=draft.subject_id)
    await session.commit()
    try:
        return await send()
    except ProblemError as exc:
        if exc.status < 500 and added:
            await session.execute(delete(NoteRow).where(
                NoteRow.note_id.in_([draft.note_id for draft in added])))
            await session.commit()
        raise
