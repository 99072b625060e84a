// Shared pieces: the API client, the session, the page header, formatting.
import { t, lang, setLang, applyI18n, has } from "./i18n.js";

/** An API refusal: HTTP status plus the node's {error: {code, message}}. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The session token lives only in the HttpOnly session cookie, out of reach of scripts; the page
// keeps the signed-in account (name, org, role) to draw itself.
export const session = {
  get signedIn() { return this.account !== null; },
  get account() {
    try { return JSON.parse(sessionStorage.getItem("xc.account") || "null"); } catch { return null; }
  },
  save(account) {
    sessionStorage.removeItem("xc.token");
    sessionStorage.setItem("xc.account", JSON.stringify(account));
  },
  clear() { sessionStorage.removeItem("xc.token"); sessionStorage.removeItem("xc.account"); },
};

/** Calls the node's API; resolves to the parsed JSON, rejects with ApiError. Signed-in calls
 * (`auth`) ride on the session cookie. */
export async function api(path, { method = "GET", body, auth = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(0, "network", String(e.message || e));
  }
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: `http_${res.status}`, message: res.statusText };
    throw new ApiError(res.status, err.code, err.message);
  }
  return data;
}

/** Plain words for a refusal: the dictionary's text for its code, else the server's message. */
export function friendly(err) {
  const code = err && err.code;
  if (code && has(`err.${code}`)) return t(`err.${code}`);
  return (err && err.message) || t("err.generic");
}

export function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export function fmtTime(ms) {
  if (ms === null || ms === undefined || ms === 0) return "—";
  const d = new Date(Number(ms));
  return d.toLocaleString(lang() === "en" ? "en-GB" : "zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}

export function fmtDate(ms) {
  if (!ms) return "—";
  return new Date(Number(ms)).toLocaleDateString(lang() === "en" ? "en-GB" : "zh-CN", { timeZone: "Asia/Shanghai" });
}

export function short(hex, n = 10) { return hex ? `${hex.slice(0, n)}…` : ""; }

/** Draws the header (brand, navigation, language switch) and fills the page's texts. */
export function initPage(active) {
  const top = document.getElementById("top");
  const acct = session.account;
  const links = [
    ["/", "nav.home", "home"], ["/explorer", "nav.explorer", "explorer"],
    ["/workspace", "nav.workspace", "workspace"], ["/desk", "nav.desk", "desk"],
    ["/governance", "nav.governance", "governance"], ["/village", "nav.village", "village"],
    ["/review", "nav.review", "review"],
  ];
  top.innerHTML = `
    <a class="brand" href="/"><img src="/img/logo.svg" alt="" width="28" height="28"><span data-i18n="app.name"></span></a>
    <nav>${links.map(([href, key, id]) => `<a href="${href}" class="${id === active ? "active" : ""}" data-i18n="${key}"></a>`).join("")}
      ${acct ? `<button type="button" id="signout" class="link" data-i18n="nav.signout"></button>` : `<a href="/signin" class="${active === "signin" ? "active" : ""}" data-i18n="nav.signin"></a>`}
    </nav>
    <button type="button" id="lang" class="lang" data-i18n="lang.switch"></button>`;
  document.getElementById("lang").addEventListener("click", () => {
    setLang(lang() === "en" ? "zh" : "en");
    applyI18n();
    document.dispatchEvent(new CustomEvent("xc:lang"));
  });
  const so = document.getElementById("signout");
  if (so) {
    so.addEventListener("click", async () => {
      try { await api("/v1/console/signout", { method: "POST", body: {}, auth: true }); } catch { /* signed out locally anyway */ }
      session.clear();
      location.href = "/signin";
    });
  }
  applyI18n();
}

/** Shows a message in `el` (kind: ok, err, info). */
export function note(el, kind, text) {
  el.className = `note ${kind}`;
  el.textContent = text;
  el.hidden = false;
}

/** Fen as yuan with two decimals and thousands separators ("1,286,500.00"); integers only, no float rounding. */
export function yuan(fen) {
  const n = Number(fen ?? 0);
  const neg = n < 0;
  const a = Math.abs(n);
  const whole = Math.trunc(a / 100).toLocaleString("en-US");
  return `${neg ? "-" : ""}${whole}.${String(a % 100).padStart(2, "0")}`;
}

/** A yyyymmdd integer as yyyy-mm-dd. */
export function ymd(d) {
  const s = String(d ?? "");
  return s.length === 8 ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6)}` : "—";
}
