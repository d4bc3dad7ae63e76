"""Free text kept in the database, out of workflow history (DESIGN decision 6).

A route that carries text (audit findings, review reasons, closure summaries) checks
the note first, sends the workflow only the note's id, then writes the note and commits
with the request. Ids are derived from the client's id for the message, so a retry
writes the same row, and the same id with a different text is a conflict (409) rather
than a silent overwrite of what someone recorded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from activities.upsert import upsert
from api.errors import Conflict
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
    """Check the notes, send the message (which carries only their ids), then write the
    notes and commit. A refused message leaves no note behind; a crash after the message
    leaves the note to the client's retry, which the workflow answers as a duplicate."""
    for draft in drafts:
        await check_note(session, draft.note_id, case_id, draft.text, draft.field)
    result = await send()
    for draft in drafts:
        await put_note(session, note=draft.note_id, case_id=case_id, kind=draft.kind,
                       text=draft.text, author=author, field=draft.field,
                       subject_id=draft.subject_id)
    await session.commit()
    return result
