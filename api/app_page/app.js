// The caseload page (issue 17): a small client of casework's REST API, same origin, same
// bearer tokens. No framework and no build step: what a front-end team needs to see is
// which calls the page makes and what it does with the answers.
//
// Safety: the token is kept in sessionStorage (this tab only, gone when it closes) and
// sent as `Authorization: Bearer`; every value from the API is written as text
// (textContent / text nodes), never as HTML, and the server's Content-Security-Policy
// allows this file and the style sheet only.
"use strict";

(() => {
  const TOKEN_KEY = "casework.token";
  const MAX_CASELOAD_PAGES = 25; // 25 x 200 cases: more than any one person's caseload
  const main = document.getElementById("main");
  const statusLine = document.getElementById("status");
  const who = document.getElementById("who");
  const signOutButton = document.getElementById("sign-out");
  let session = null; // GET /app/session: subject, roles, actions, choices

  class ApiError extends Error {
    constructor(status, problem) {
      const detail = problem && (problem.detail || problem.title);
      super(detail ? String(detail) : `HTTP ${status}`);
      this.status = status;
      this.problem = problem || {};
    }
  }

  // --- small helpers ------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function show(...nodes) {
    // replaceChildren would write a left-out part (null) as the text "null"
    main.replaceChildren(...nodes.flat().filter((node) => node !== null && node !== undefined));
  }

  function say(message, isError) {
    statusLine.textContent = message;
    statusLine.className = isError ? "error" : "";
  }

  function problemText(error) {
    if (!(error instanceof ApiError)) return String(error && error.message ? error.message : error);
    const p = error.problem;
    const where = [p.field && `field ${p.field}`, p.rule && `rule ${p.rule}`].filter(Boolean);
    return `${p.title || "Error"} (${error.status}): ${error.message}` +
      (where.length ? ` [${where.join(", ")}]` : "");
  }

  function words(code) {
    return code ? String(code).replace(/_/g, " ") : "";
  }

  function instant(value, timeZone) {
    if (!value) return "none";
    const options = { dateStyle: "medium", timeStyle: "short" };
    if (timeZone) options.timeZone = timeZone;
    try {
      return new Intl.DateTimeFormat("en-AU", options).format(new Date(value));
    } catch (_) {
      return String(value);
    }
  }

  function newId(prefix) {
    // Repeat-safety keys (event_id, review_id): ids are letters, digits, . _ : -
    const random = crypto.getRandomValues(new Uint32Array(2));
    return `${prefix}-${Date.now().toString(36)}-${random[0].toString(36)}${random[1].toString(36)}`;
  }

  function may(action) {
    return Boolean(session && session.actions.includes(action));
  }

  // R6 as api/caseload.py `streak_warning` states it (the browser tests compare).
  function streakWarning(count) {
    const threshold = session ? session.streak_threshold : 3;
    if (count >= threshold) {
      return `${count} consecutive failures: exception audit recommended (R6)`;
    }
    if (count === threshold - 1) {
      return `${count} consecutive failures: one more recommends an exception audit (R6)`;
    }
    return null;
  }

  function streakCell(count) {
    const warning = streakWarning(count);
    return warning
      ? el("strong", { class: "warning streak-warning" },
        el("span", { "aria-hidden": "true" }, "\u26A0 "), warning)
      : el("span", { class: "streak" }, String(count));
  }

  const DEADLINE_KINDS = {
    follow_up: "follow-up (R1)",
    overdue: "overdue (R2)",
    escalation: "escalation (R3)",
  };

  // --- the REST API ---------------------------------------------------------------------

  async function api(method, path, body) {
    const headers = {
      Accept: "application/json",
      Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}`,
    };
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = { detail: text };
    }
    if (response.status === 401) forget();
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  async function allCases() {
    const items = [];
    let cursor = null;
    for (let page = 0; page < MAX_CASELOAD_PAGES; page += 1) {
      const params = new URLSearchParams({ limit: "200" });
      if (cursor) params.set("cursor", cursor);
      const answer = await api("GET", `/cases?${params}`);
      items.push(...answer.items);
      cursor = answer.next_cursor;
      if (!cursor) return { items, complete: true };
    }
    return { items, complete: false };
  }

  // --- signing in -----------------------------------------------------------------------

  function forget() {
    sessionStorage.removeItem(TOKEN_KEY);
    session = null;
    who.textContent = "";
    signOutButton.hidden = true;
  }

  function showSignIn(message) {
    const field = el("textarea", {
      id: "token", name: "token", rows: "4", required: true, autocomplete: "off",
      spellcheck: "false", "aria-describedby": "token-help",
    });
    const form = el("form", { id: "sign-in", class: "card" },
      el("label", { for: "token" }, "Token"),
      field,
      el("p", { id: "token-help", class: "help" },
        "In the embedded default, print one with ",
        el("code", {}, "casework token --role practitioner"),
        ". It is kept in this browser tab only and sent to the API as a bearer token."),
      el("button", { type: "submit" }, "Sign in"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const token = field.value.trim();
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      session = null;
      route();
    });
    show(el("h1", {}, "Sign in"), form);
    say(message || "", Boolean(message));
    field.focus();
  }

  async function ensureSession() {
    if (session) return true;
    try {
      session = await api("GET", "/app/session");
    } catch (error) {
      forget();
      showSignIn(`That token was refused. ${problemText(error)}`);
      return false;
    }
    who.textContent = `Signed in as ${session.subject} (${session.roles.join(", ")})` +
      (session.agency_id ? `, agency ${session.agency_id}` : "");
    signOutButton.hidden = false;
    return true;
  }

  signOutButton.addEventListener("click", () => {
    forget();
    if (location.hash && location.hash !== "#/") location.hash = "#/";
    showSignIn();
    say("Signed out: the token is gone from this tab.", false);
  });

  // --- the caseload ---------------------------------------------------------------------

  async function showCaseload() {
    say("Loading the caseload\u2026", false);
    let answer;
    try {
      answer = await allCases();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        showSignIn(`Your token was refused. ${problemText(error)}`);
        return;
      }
      say(problemText(error), true);
      return;
    }
    const rows = answer.items.map((c) => el("tr", { "data-case": c.case_id },
      el("th", { scope: "row" },
        el("a", { href: `#/cases/${encodeURIComponent(c.case_id)}` }, c.case_id),
        el("span", { class: "sub" }, `agency ${c.agency_id}`)),
      el("td", {}, words(c.status)),
      el("td", {}, instant(c.next_deadline),
        c.next_deadline_kind
          ? el("span", { class: "sub" }, DEADLINE_KINDS[c.next_deadline_kind] || words(c.next_deadline_kind))
          : null),
      el("td", { class: "streak-cell" }, streakCell(c.consecutive_failures)),
      el("td", {}, c.audit_open ? el("strong", { class: "warning" }, "open") : "none"),
      el("td", {}, c.overdue ? el("strong", { class: "warning" }, "overdue") : "none")));
    const table = el("table", { id: "caseload" },
      el("caption", {}, `${answer.items.length} case${answer.items.length === 1 ? "" : "s"}, ` +
        "soonest next deadline first (times in this browser's time zone)"),
      el("thead", {}, el("tr", {},
        ["Case", "Status", "Next deadline", "Consecutive failures (R6)",
          "Exception audit (R8)", "Report overdue (R2)"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows));
    show(
      el("div", { class: "heading" }, el("h1", {}, "Caseload"),
        el("button", { type: "button", id: "refresh", onclick: () => showCaseload() }, "Refresh")),
      answer.items.length ? table : el("p", {}, "No cases you may see."),
      answer.complete ? null : el("p", { class: "warning" },
        "Only the first cases are shown: narrow the list with the API's filters."));
    say(`Caseload loaded: ${answer.items.length} case${answer.items.length === 1 ? "" : "s"}.`, false);
  }

  // --- one case -------------------------------------------------------------------------

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
      session.choices.assessment.map((a) => el("option", { value: a }, words(a))));
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
      session.choices.event_kind.map((k) => el("option", { value: k }, words(k))));
    const concern = el("select", { id: "event-concern", name: "concern" },
      session.choices.concern.map((k) => el("option", { value: k }, words(k))));
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
      session.choices.review_kind.map((k) => el("option", { value: k }, words(k))));
    const concern = el("select", { id: "review-concern", name: "concern" },
      session.choices.concern.map((k) => el("option", { value: k }, words(k))));
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
        showSignIn(`Your token was refused. ${problemText(error)}`);
        return;
      }
      say(problemText(error), true);
      return;
    }
    await showCase(caseId);
    say(done, false);
    main.focus(); // the form is gone: keep keyboard users in the page, not on <body>
  }

  async function showCase(caseId) {
    say(`Loading case ${caseId}\u2026`, false);
    let c;
    try {
      c = await api("GET", `/cases/${encodeURIComponent(caseId)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        showSignIn(`Your token was refused. ${problemText(error)}`);
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

  // --- routing: #/ the caseload, #/cases/ID a case ---------------------------------------

  async function route() {
    if (!sessionStorage.getItem(TOKEN_KEY)) {
      showSignIn();
      return;
    }
    if (!(await ensureSession())) return;
    const match = location.hash.match(/^#\/cases\/([^/]+)$/);
    if (match) {
      await showCase(decodeURIComponent(match[1]));
    } else {
      await showCaseload();
    }
    main.focus();
  }

  window.addEventListener("hashchange", route);
  route();
})();
