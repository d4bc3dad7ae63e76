// One case (issue 17): its periods as a timeline whose deadlines explain themselves,
// reports, audits, reviews and tasks, and the forms the caller's roles allow (assess a
// report R4, raise an event R7/V4, request a review V3/V4, complete a task). Every
// change is one POST of the REST API; the case is read again after it.
import {
  ApiError, DEADLINE_KINDS, api, el, instant, main, may, newId, problemText, refused, say,
  show, state, streakCell, streakWarning, words,
} from "./page.js";

function explanation(basis, timeZone) {
  if (!basis || typeof basis !== "object") return null;
  const skipped = Array.isArray(basis.skipped) ? basis.skipped : [];
  return el("details", { class: "basis" },
    el("summary", {}, "Why this date"),
    el("p", {}, basis.explanation || ""),
    el("dl", {},
      el("dt", {}, "Rule"), el("dd", {}, basis.rule || ""),
      el("dt", {}, "Counted from"), el("dd", {}, basis.counted_from || ""),
      el("dt", {}, "Counted"), el("dd", {}, `${basis.amount} ${words(basis.unit)}`),
      el("dt", {}, "Calendar"), el("dd", {}, basis.calendar || ""),
      el("dt", {}, "Local time"),
      el("dd", {}, `${basis.local_date || ""} ${basis.local_time || ""} ${basis.time_zone || timeZone || ""}`),
      el("dt", {}, "Holidays skipped"),
      el("dd", {}, skipped.length
        ? el("ul", {}, skipped.map((s) => el("li", {}, `${s.day}: ${s.name}`)))
        : "none")));
}

function milestone(label, at, done, basis, timeZone, note) {
  const passed = at && new Date(at) <= new Date();
  return el("li", { class: `milestone${passed ? " passed" : ""}` },
    el("span", { class: "what" }, label, passed ? el("span", { class: "sub-inline" }, " (passed)") : null),
    el("span", { class: "when" }, at ? instant(at, timeZone) : note || ""),
    done ? el("span", { class: "done" }, `acted on ${instant(done, timeZone)}`) : null,
    explanation(basis, timeZone));
}

function assessForm(c, period) {
  const reportId = period.report_id;
  const fieldId = `assessment-${period.index}`;
  const select = el("select", { id: fieldId, name: "assessment" },
    state.session.choices.assessment.map((a) => el("option", { value: a }, words(a))));
  const form = el("form", { class: "inline assess" },
    el("label", { for: fieldId }, `Assessment of report ${reportId} (R4)`), select,
    el("button", { type: "submit" }, `Assess report ${reportId}`));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(c.case_id, `Report ${reportId} assessed: ${words(select.value)}.`, () => api("POST",
      `/cases/${encodeURIComponent(c.case_id)}/reports/${encodeURIComponent(reportId)}/assessment`,
      { assessment: select.value }), form);
  });
  return form;
}

function periodItem(c, period) {
  const tz = c.time_zone;
  const basis = period.basis || {};
  const assessable = may("assess_report") && period.report_id &&
    period.report_state === "received" && c.status !== "closed";
  return el("li", { class: `period outcome-${period.outcome}` },
    el("h3", {}, `Period ${period.index + 1}: report due ${period.due_date}`),
    el("p", {}, `Outcome (R5): ${words(period.outcome)}. Report: ${words(period.report_state)}` +
      (period.assessment ? `, assessed ${words(period.assessment)}.` : ".")),
    el("ol", { class: "milestones" },
      milestone("Follow-up (R1)", period.follow_up_at, period.follow_up_sent_at, basis.follow_up, tz),
      milestone("Due", null, null, null, tz, `${period.due_date} (end of day, local)`),
      milestone("Overdue (R2)", period.overdue_at, period.overdue_marked_at, basis.overdue, tz),
      milestone("Escalation (R3)", period.escalation_at, period.escalated_at, basis.escalation, tz),
      period.ends_at ? milestone("Period ends (R5)", period.ends_at, null, null, tz) : null),
    period.reports && period.reports.length
      ? el("ul", { class: "reports" }, period.reports.map((r) =>
        el("li", {}, `Report ${r.report_id}, received ${instant(r.received_at, tz)}`)))
      : null,
    assessable ? assessForm(c, period) : null);
}

function section(title, id, items, empty, render) {
  return el("section", { "aria-labelledby": id },
    el("h2", { id }, title),
    items && items.length ? el("ul", {}, items.map(render)) : el("p", {}, empty));
}

function eventForm(c) {
  const kind = el("select", { id: "event-kind", name: "kind" },
    state.session.choices.event_kind.map((k) => el("option", { value: k }, words(k))));
  const concern = el("select", { id: "event-concern", name: "concern" },
    state.session.choices.concern.map((k) => el("option", { value: k }, words(k))));
  const concernRow = el("p", { hidden: true },
    el("label", { for: "event-concern" }, "Concern (V4)"), concern);
  const occurred = el("input", { id: "event-occurred", name: "occurred_on", type: "date" });
  kind.addEventListener("change", () => { concernRow.hidden = kind.value !== "contract_concern"; });
  const form = el("form", { id: "raise-event", class: "card" },
    el("h3", {}, "Raise an event (R7, V4)"),
    el("p", {}, el("label", { for: "event-kind" }, "Kind"), kind),
    concernRow,
    el("p", {}, el("label", { for: "event-occurred" }, "Occurred on (optional)"), occurred),
    el("button", { type: "submit" }, "Raise the event"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { event_id: newId("evt"), kind: kind.value };
    if (kind.value === "contract_concern") body.concern = concern.value;
    if (occurred.value) body.occurred_on = occurred.value;
    act(c.case_id, `Event recorded: ${words(kind.value)}.`,
      () => api("POST", `/cases/${encodeURIComponent(c.case_id)}/events`, body), form);
  });
  return form;
}

function reviewForm(c) {
  const kind = el("select", { id: "review-kind", name: "kind" },
    state.session.choices.review_kind.map((k) => el("option", { value: k }, words(k))));
  const concern = el("select", { id: "review-concern", name: "concern" },
    state.session.choices.concern.map((k) => el("option", { value: k }, words(k))));
  const concernRow = el("p", { hidden: true },
    el("label", { for: "review-concern" }, "Concern (V4)"), concern);
  const reason = el("textarea", { id: "review-reason", name: "reason", rows: "3", required: true });
  kind.addEventListener("change", () => { concernRow.hidden = kind.value !== "contract"; });
  const form = el("form", { id: "request-review", class: "card" },
    el("h3", {}, "Request a review (V3, V4)"),
    el("p", {}, el("label", { for: "review-kind" }, "Kind"), kind),
    concernRow,
    el("p", {}, el("label", { for: "review-reason" }, "Reason"), reason),
    el("button", { type: "submit" }, "Request the review"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { review_id: newId("rev"), kind: kind.value, reason: reason.value };
    if (kind.value === "contract") body.concern = concern.value;
    act(c.case_id, `Review requested: ${words(kind.value)}.`,
      () => api("POST", `/cases/${encodeURIComponent(c.case_id)}/reviews`, body), form);
  });
  return form;
}

function completeTaskButton(c, task) {
  return el("button", {
    type: "button", class: "small",
    onclick: (event) => act(c.case_id, `Task done: ${task.title}.`, () => api("POST",
      `/tasks/${encodeURIComponent(task.task_id)}/complete`, {}), event.currentTarget),
  }, `Mark done: ${task.title}`);
}

async function act(caseId, done, call, control) {
  // One call at a time per control; the answer (or the problem) is announced.
  const buttons = control.tagName === "BUTTON" ? [control] : [...control.querySelectorAll("button")];
  buttons.forEach((b) => { b.disabled = true; });
  say("Sending\u2026", false);
  try {
    await call();
  } catch (error) {
    buttons.forEach((b) => { b.disabled = false; });
    if (error instanceof ApiError && error.status === 401) {
      refused(error);
      return;
    }
    say(problemText(error), true);
    return;
  }
  await showCase(caseId);
  say(done, false);
  main.focus(); // the form is gone: keep keyboard users in the page, not on <body>
}

export async function showCase(caseId) {
  say(`Loading case ${caseId}\u2026`, false);
  let c;
  try {
    c = await api("GET", `/cases/${encodeURIComponent(caseId)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      refused(error);
      return;
    }
    show(el("p", {}, el("a", { href: "#/" }, "Back to the caseload")),
      el("h1", {}, `Case ${caseId}`), el("p", { class: "error" }, problemText(error)));
    say(problemText(error), true);
    return;
  }
  const tz = c.time_zone;
  const warning = streakWarning(c.consecutive_failures);
  const facts = el("dl", { class: "facts" },
    el("dt", {}, "Agency"), el("dd", {}, c.agency_id),
    el("dt", {}, "Status"), el("dd", {}, words(c.status)),
    el("dt", {}, "Contract"), el("dd", {}, `${c.contract_start} to ${c.contract_end}`),
    el("dt", {}, "Order expires"), el("dd", {}, c.order_expiry),
    el("dt", {}, "Next deadline"), el("dd", {}, instant(c.next_deadline, tz),
      c.next_deadline_kind ? ` (${DEADLINE_KINDS[c.next_deadline_kind] || words(c.next_deadline_kind)})` : ""),
    el("dt", {}, "Consecutive failures (R6)"), el("dd", { id: "case-streak" }, streakCell(c.consecutive_failures)),
    el("dt", {}, "Exception audit (R8)"), el("dd", {}, c.audit_open ? "open" : "none open"),
    el("dt", {}, "Report overdue (R2)"), el("dd", {}, c.overdue ? "yes" : "no"),
    el("dt", {}, "Times shown in"), el("dd", {}, tz || "this browser's time zone"));
  const periods = el("section", { "aria-labelledby": "periods-title" },
    el("h2", { id: "periods-title" }, "Reporting periods"),
    el("p", { class: "help" }, "Each deadline says why it falls when it does: open \u201cWhy this date\u201d."),
    el("ol", { class: "timeline" }, c.periods.map((p) => periodItem(c, p))));
  const audits = section("Exception audits (R6-R8)", "audits-title", c.audits, "None.",
    (a) => el("li", {}, `${a.audit_id}: ${words(a.status)}, ${a.rule} ${words(a.trigger)}, opened ${instant(a.opened_at, tz)}` +
      (a.closed_at ? `, closed ${instant(a.closed_at, tz)}` : "")));
  const reviews = section("Reviews (V1-V4)", "reviews-title", c.reviews, "None.",
    (r) => el("li", {}, `${r.review_id}: ${words(r.kind)} review (${r.rule}), ${words(r.status)}` +
      (r.concern ? `, concern ${words(r.concern)}` : "") +
      (r.due_at ? `, due ${instant(r.due_at, tz)}` : "")));
  const tasks = section("Open tasks", "tasks-title", c.open_tasks, "None.",
    (t) => el("li", {}, `${t.title} (${t.rule}, for the ${words(t.assignee_role)})` +
      (t.due_at ? `, due ${instant(t.due_at, tz)}` : "") + " ",
      may("complete_task") ? completeTaskButton(c, t) : null));
  const forms = [];
  if (c.status !== "closed" && may("raise_event")) forms.push(eventForm(c));
  if (c.status !== "closed" && may("request_review")) forms.push(reviewForm(c));
  const actions = el("section", { "aria-labelledby": "actions-title" },
    el("h2", { id: "actions-title" }, "Actions"),
    forms.length ? forms : el("p", {}, "Your role may not change this case here."));
  show(
    el("p", {}, el("a", { href: "#/" }, "Back to the caseload")),
    el("h1", {}, `Case ${c.case_id}`),
    warning ? el("p", { class: "banner warning", id: "case-warning" }, warning) : null,
    facts, periods, audits, reviews, tasks, actions);
  say(`Case ${c.case_id} loaded.`, false);
}

