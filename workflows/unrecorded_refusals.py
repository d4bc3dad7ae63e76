"""The access-log row of an update refused before it entered history (issue 10).

An update refused for what it carries -- plaintext, a payload that is not the message's
shape, an id that breaks the id rule -- is rejected by its validator so that none of it
enters history. The workflow records everything else through history (its recording
activity), so such a refusal would leave no trace but the sender's error. This is the
one exception: the validator hands the refusal's access-log row to the sink the worker
installed for its task queue (`install_sink`; worker.py writes it to the access log).

That is safe to do outside history because a validator runs only live, when the update
arrives, never on replay, and a rejected update is not in history to be replayed. It is
at least once: an update the worker is sent again (its workflow task retried) is refused
again, and the row's path names the update id, so the writer keeps one row per update.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from temporalio import workflow

from models.effects import AccessEntry
from models.ids import is_id, recordable_workflow_id
from workflows import doors

log = logging.getLogger(__name__)

Sink = Callable[[AccessEntry], None]
_SINKS: dict[str, Sink] = {}


def install_sink(task_queue: str, sink: Sink) -> None:
    """Where refusals of workflows on `task_queue` go (called when a worker is built; a
    later worker of the same queue replaces it)."""
    _SINKS[task_queue] = sink


def report(name: str, reason: str, case_id: str) -> None:
    """From an update's validator: log the refusal (never its payload, nor a name that is
    not an id: the module's own logger, since the SDK's workflow logger adds the update's
    name) and hand its row, subject `unauthenticated` (no envelope was read), to the
    queue's sink."""
    info = workflow.info()
    update = workflow.current_update_info()
    update_id = update.id if update is not None else ""
    if not is_id(update_id):  # the sender's free text: named by its digest instead
        update_id = hashlib.sha256(update_id.encode()).hexdigest()[:32]
    name = doors.recordable_name(name)
    log.warning("update %s to %s refused at the door: %s", name,
                recordable_workflow_id(info.workflow_id), reason)
    sink = _SINKS.get(info.task_queue)
    if sink is None:
        return
    try:
        sink(doors.access_entry(doors.MessageRefused(reason, ""),
                                workflow_id=info.workflow_id, name=name,
                                entry=f"update:{update_id}", method="UPDATE",
                                case_id=case_id, at=workflow.now()))
    except Exception:  # the sender's rejection must not depend on the log
        log.exception("the refused update's access-log row was not handed on")
