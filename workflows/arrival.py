"""When a report arrived (R5): the instant the service received it, not the instant the
workflow got round to processing it (issue 9.3).

R5 calls a report on time when it arrived by the end of its due date. The workflow
processes a message only when a worker runs it; with the worker down or backlogged
around midnight, the processing time is later than the truth and an on-time report
would count as late (and could start an R6 streak). The REST API therefore stamps
`received_at` when it accepts a report and passes it in the message; the workflow takes
that instant, bounded on both sides so that a sender can neither date a report in the
future nor back-date it beyond what Temporal itself proves:

- never later than the processing time (`now`): a report cannot have arrived after it
  was processed, and a sender's clock running fast changes nothing;
- never earlier than `floor`, the time of the workflow's previous activation: a message
  processed in workflow task N+1 reached Temporal after task N started (had it been
  there earlier, task N would have carried it). So a late report cannot be dated back
  past a deadline the workflow had already acted on, however it is sent.

Pure, no I/O: imported by the workflow (through the sandbox) and tested directly.
"""

from __future__ import annotations

from datetime import UTC, datetime


def report_arrival(received_at: datetime, floor: datetime, now: datetime) -> datetime:
    """R5: the arrival instant that counts -- `received_at` clamped to [floor, now].

    A naive `received_at` (a caller of the Temporal door that left out the offset) is
    read as UTC, the convention of every instant in the messages; it is then bounded
    like any other, so the guess can never make a report earlier than Temporal allows.
    """
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    lowest = min(floor, now)  # a floor past `now` would be a clock oddity: now wins
    return max(lowest, min(received_at, now))
