// The caseload page's ground floor (issue 17): the REST API call, the signed-in caller,
// and writing values into the page -- always as text (textContent / text nodes), never
// as HTML: the bearer token sits in sessionStorage, and the server's
// Content-Security-Policy allows these files only.
export const TOKEN_KEY = "casework.token";
const MAX_CASELOAD_PAGES = 25; // 25 x 200 cases: more than any one person's caseload
export const main = document.getElementById("main");
const statusLine = document.getElementById("status");
export const who = document.getElementById("who");
export const signOutButton = document.getElementById("sign-out");
export const state = { session: null }; // GET /app/session: subject, roles, actions, choices

export class ApiError extends Error {
  constructor(status, problem) {
    const detail = problem && (problem.detail || problem.title);
    super(detail ? String(detail) : `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

// --- small helpers ------------------------------------------------------------------

export function el(tag, attrs, ...children) {
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

export function show(...nodes) {
  // replaceChildren would write a left-out part (null) as the text "null"
  main.replaceChildren(...nodes.flat().filter((node) => node !== null && node !== undefined));
}

export function say(message, isError) {
  statusLine.textContent = message;
  statusLine.className = isError ? "error" : "";
}

export function problemText(error) {
  if (!(error instanceof ApiError)) return String(error && error.message ? error.message : error);
  const p = error.problem;
  const where = [p.field && `field ${p.field}`, p.rule && `rule ${p.rule}`].filter(Boolean);
  return `${p.title || "Error"} (${error.status}): ${error.message}` +
    (where.length ? ` [${where.join(", ")}]` : "");
}

export function words(code) {
  return code ? String(code).replace(/_/g, " ") : "";
}

export function instant(value, timeZone) {
  if (!value) return "none";
  const options = { dateStyle: "medium", timeStyle: "short" };
  if (timeZone) options.timeZone = timeZone;
  try {
    return new Intl.DateTimeFormat("en-AU", options).format(new Date(value));
  } catch (_) {
    return String(value);
  }
}

export function newId(prefix) {
  // Repeat-safety keys (event_id, review_id): ids are letters, digits, . _ : -
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `${prefix}-${Date.now().toString(36)}-${random[0].toString(36)}${random[1].toString(36)}`;
}

export function may(action) {
  return Boolean(state.session && state.session.actions.includes(action));
}

// R6 as api/caseload.py `streak_warning` states it (the browser tests compare).
export function streakWarning(count) {
  const threshold = state.session ? state.session.streak_threshold : 3;
  if (count >= threshold) {
    return `${count} consecutive failures: exception audit recommended (R6)`;
  }
  if (count === threshold - 1) {
    return `${count} consecutive failures: one more recommends an exception audit (R6)`;
  }
  return null;
}

export function streakCell(count) {
  const warning = streakWarning(count);
  return warning
    ? el("strong", { class: "warning streak-warning" },
      el("span", { "aria-hidden": "true" }, "\u26A0 "), warning)
    : el("span", { class: "streak" }, String(count));
}

export const DEADLINE_KINDS = {
  follow_up: "follow-up (R1)",
  overdue: "overdue (R2)",
  escalation: "escalation (R3)",
};

// --- the REST API ---------------------------------------------------------------------

export async function api(method, path, body) {
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

export async function allCases() {
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

// --- the signed-in caller --------------------------------------------------------------

export function forget() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.session = null;
  who.textContent = "";
  signOutButton.hidden = true;
}

let whenRefused = null;

// The page's answer to a 401 (the token is already forgotten): app.js shows the sign-in.
export function onRefused(handler) {
  whenRefused = handler;
}

export function refused(error) {
  if (whenRefused) whenRefused(`Your token was refused. ${problemText(error)}`);
}
