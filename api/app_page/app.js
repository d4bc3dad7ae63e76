// The caseload page (issue 17): a small client of casework's REST API, same origin, same
// bearer tokens. No framework and no build step: what a front-end team needs to see is
// which calls the page makes and what it does with the answers.
//
// Safety: the token is kept in sessionStorage (this tab only, gone when it closes) and
// sent as `Authorization: Bearer`; every value from the API is written as text
// (textContent / text nodes), never as HTML, and the server's Content-Security-Policy
// allows the page's own files only (ES modules: no bundler needed).
//
// app.js: signing in, the caseload, and the page's two addresses (#/ and #/cases/ID);
// page.js: the API call and writing into the page; case.js: one case.
import {
  ApiError, DEADLINE_KINDS, allCases, api, el, forget, instant, main, onRefused,
  TOKEN_KEY, problemText, refused, say, show, signOutButton, state, streakCell, who, words,
} from "./page.js";
import { showCase } from "./case.js";

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
    state.session = null;
    route();
  });
  show(el("h1", {}, "Sign in"), form);
  say(message || "", Boolean(message));
  field.focus();
}

async function ensureSession() {
  if (state.session) return true;
  try {
    state.session = await api("GET", "/app/session");
  } catch (error) {
    const refusedToken = error instanceof ApiError && error.status === 401;
    forget();
    showSignIn(refusedToken ? `That token was refused. ${problemText(error)}`
      : `Signing in failed, try again. ${problemText(error)}`);
    return false;
  }
  const { subject, roles, agency_id: agency } = state.session;
  who.textContent = `Signed in as ${subject} (${roles.join(", ")})` +
    (agency ? `, agency ${agency}` : "");
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
      refused(error);
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
onRefused(showSignIn);
route();
