// Shared by every page: the API key, calls to the API, and small DOM helpers.
// The key lives in this tab's sessionStorage only: never in a URL or a cookie.

const KEY = "ssl-saas-api-key";
const SIGN_IN = "/console/sign-in";
// Job statuses that still change by themselves.
export const MOVING = new Set(["QUEUED", "INPROGRESS", "DESTROYING"]);

export const apiKey = () => sessionStorage.getItem(KEY);

export function rememberKey(key) {
  sessionStorage.setItem(KEY, key);
}

function toSignIn() {
  sessionStorage.removeItem(KEY);
  const back = location.pathname + location.search;
  location.replace(`${SIGN_IN}?next=${encodeURIComponent(back)}`);
}

/** Every page that shows data starts here: without a key, the page stays
 * empty and the browser goes to the sign-in form. */
export function signedIn() {
  if (!apiKey()) {
    toSignIn();
    return false;
  }
  document.getElementById("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    location.replace(SIGN_IN);
  });
  document.getElementById("main").hidden = false;
  return true;
}

export class ApiFailure extends Error {
  constructor(status, body) {
    super(body?.message || `the service answered HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

/** One call to the API with the key; an answer that is not 2xx throws
 * ApiFailure with the service's JSON error. A refused key signs out. */
export async function api(path, { method = "GET", body, params } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined) url.searchParams.set(name, value);
  }
  const headers = { "x-api-key": apiKey() || "" };
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(url, { method, body, headers, cache: "no-store", credentials: "omit" });
  } catch {
    throw new ApiFailure(0, { error: "unreachable", message: "the service can't be reached" });
  }
  if (response.status === 401) {
    toSignIn();
    throw new ApiFailure(401, { error: "unauthorized", message: "signed out" });
  }
  const payload = await response.json().catch(() => null);
  if (!response.ok) throw new ApiFailure(response.status, payload);
  return payload;
}

/** An element with attributes and children; text is always text (never
 * parsed as markup), so nothing a job holds can become part of the page. */
export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function badge(status) {
  if (!status) return h("span", { class: "badge" }, "—");
  return h("span", { class: `badge s-${String(status).toLowerCase()}` }, status);
}

const two = (n) => String(n).padStart(2, "0");

/** A moment as local date and time, to the second. */
export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return (
    `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
  );
}

export function notice(message, kind = "error") {
  const box = document.getElementById("notice");
  box.hidden = !message;
  box.className = `notice ${kind}`;
  box.textContent = message || "";
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Not a secure context (plain http to a remote host), or no permission.
    const area = h("textarea", { class: "offscreen", readonly: true });
    area.value = text;
    document.body.append(area);
    area.select();
    try {
      return document.execCommand("copy");
    } finally {
      area.remove();
    }
  }
}

export function copyButton(text, label = "Copy") {
  const button = h("button", { type: "button", class: "copy", "data-copy": text }, label);
  button.addEventListener("click", async () => {
    button.textContent = (await copy(text)) ? "Copied" : "Copy failed";
    setTimeout(() => (button.textContent = label), 1500);
  });
  return button;
}

/** Runs `load` now and then again: after `fast` ms while it answers true
 * (something is still moving), after `slow` ms otherwise (never when 0).
 * Waits while the tab is hidden. Returns a function that loads at once. */
export function keepFresh(load, { fast = 2000, slow = 0 } = {}) {
  let timer = null;
  async function run() {
    clearTimeout(timer);
    let moving = true;
    try {
      moving = await load();
      notice("");
    } catch (failure) {
      if (failure.status === 401) return;
      notice(`Could not load: ${failure.message}`);
    }
    const wait = moving ? fast : slow;
    if (wait && !document.hidden) timer = setTimeout(run, wait);
  }
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) run();
  });
  run();
  return run;
}

/** Offers `text` as a file named `name`, made in the page. */
export function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
