// The regulator desk: trace a code (timeline + flow graph, each step's proof verifiable here),
// open alerts and complaints, and the regulator's actions (freeze, recall, suspend) via /v1/console/tx.
import { initPage, api, session, esc, fmtTime, friendly } from "./common.js";
import { t } from "./i18n.js";
import { buildForm, submitTx, parseCode } from "./forms.js";
import { verifyInto } from "./proofview.js";
import { directory, orgName } from "./orgs.js";

initPage("desk");
const who = document.getElementById("who");
const traceView = document.getElementById("traceview");
const PARTIES = ["farm", "lab", "merchant", "logistics", "consumer"];
let lastTrace = null;
let dir = null;
const GTIN = "09521234543213";

function signed() {
  if (session.signedIn) return true;
  who.innerHTML = `<div class="note info" id="need-signin">${esc(t("ws.need"))} <a href="/signin?next=/desk">${esc(t("nav.signin"))}</a></div>`;
  return false;
}

/** The flow farm → lab → merchant → logistics → consumer, each with its signers, as SVG. */
function graph(trace) {
  const by = new Map(PARTIES.map((p) => [p, []]));
  for (const a of trace.accountable || []) {
    const list = by.get(a.party) || [];
    const label = `${a.signer?.subject || ""} (${orgName(dir, a.signer?.org || "")})`;
    if (!list.includes(label)) list.push(label);
    by.set(a.party, list);
  }
  const w = 190, gap = 40, h = 120;
  const boxes = PARTIES.map((p, i) => {
    const x = 10 + i * (w + gap);
    const names = by.get(p) || [];
    const on = names.length > 0;
    return `<g class="party" data-party="${p}"><rect x="${x}" y="20" width="${w}" height="${h}" rx="10" fill="${on ? "#e3f4e8" : "#f1efe8"}" stroke="${on ? "#13803b" : "#b9b4a6"}" stroke-width="2"/>
      <text x="${x + w / 2}" y="48" text-anchor="middle" font-size="18" font-weight="700" fill="#1d2723">${esc(t(`party.${p}`))}</text>
      ${names.slice(0, 3).map((n, j) => `<text x="${x + w / 2}" y="${76 + j * 20}" text-anchor="middle" font-size="12" fill="#5b6b65">${esc(n.length > 30 ? `${n.slice(0, 29)}…` : n)}</text>`).join("")}
      ${i < PARTIES.length - 1 ? `<path d="M${x + w + 4} ${20 + h / 2} l${gap - 12} 0" stroke="#0f5c4d" stroke-width="3" marker-end="url(#arrow)"/>` : ""}</g>`;
  }).join("");
  const width = 20 + PARTIES.length * w + (PARTIES.length - 1) * gap;
  return `<svg viewBox="0 0 ${width} ${h + 40}" role="img" aria-label="${esc(t("desk.graph"))}"><defs><marker id="arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0 0 L10 5 L0 10 z" fill="#0f5c4d"/></marker></defs>${boxes}</svg>`;
}

function renderTrace(tr) {
  const proofs = new Map((tr.proofs || []).map((p) => [p.txid, p]));
  traceView.innerHTML = `<section class="card"><h2>${esc(t("desk.graph"))}</h2><div class="graph" id="graph">${graph(tr)}</div></section>
    <section class="card"><h2>${esc(t("desk.timeline"))} <span class="muted mono">${esc(tr.object)}</span></h2>
    <ol class="timeline" id="timeline">${(tr.entries || []).map((e, i) => `<li data-step="${esc(e.step)}">
      <strong>${esc(t(`m.${e.step}`))}</strong><br>
      ${esc(e.signer?.subject || "")} · <span class="org">${esc(orgName(dir, e.signer?.org || ""))}</span> · ${esc(t(`role.${e.signer?.role}`))}<br>
      <span class="muted">${esc(fmtTime(e.time))} · <a href="/explorer#/block/${e.height}">#${e.height}</a> · <a class="mono" href="/explorer#/tx/${esc(e.txid)}">${esc(e.txid.slice(0, 12))}…</a> · ${esc(e.object || "")}</span>
      ${proofs.has(e.txid) ? ` <button class="secondary verify-step" type="button" data-i="${i}">${esc(t("desk.verifyStep"))}</button><div class="proof-out"></div>` : ""}
    </li>`).join("")}</ol></section>`;
  for (const b of traceView.querySelectorAll(".verify-step")) {
    b.addEventListener("click", () => {
      const e = tr.entries[Number(b.dataset.i)];
      verifyInto(b.nextElementSibling, proofs.get(e.txid));
    });
  }
}

async function trace(code) {
  traceView.innerHTML = `<p class="muted">…</p>`;
  try {
    lastTrace = await api(`/v1/console/trace?code=${encodeURIComponent(code)}`, { auth: true });
    renderTrace(lastTrace);
  } catch (err) {
    lastTrace = null;
    traceView.innerHTML = `<div class="note err" id="trace-error">${esc(friendly(err))}</div>`;
  }
}

// Open alerts, newest first, a page of 20 at a time, filtered by kind; ticked ones close with one reason.
const KINDS = ["never_issued", "repeated_failures", "two_cities", "too_many_scans", "out_of_region", "late_scan", "capacity_exhausted", "not_shipped"];
const kindSelect = document.getElementById("alert-kind");
for (const k of KINDS) {
  const o = new Option(t(`r.${k}`), k);
  o.dataset.i18n = `r.${k}`;
  kindSelect.add(o);
}
let alertsNext = null;

function alertRow(x) {
  const repeats = x.repeats ? ` <span class="muted">${esc(t("desk.repeats", { n: x.repeats }))}</span>` : "";
  return `<tr data-seq="${x.seq}"><td><input type="checkbox" class="pick" value="${x.seq}" aria-label="#${x.seq}"></td>
    <td>${esc(t(`r.${x.kind}`))}${repeats}</td><td class="mono">${esc(x.object)}</td><td>${esc(fmtTime(x.lastAt || x.time))}</td></tr>`;
}

async function loadAlerts(more = false) {
  const a = document.getElementById("alerts");
  const kind = kindSelect.value;
  const q = `open=true&limit=20${kind ? `&kind=${encodeURIComponent(kind)}` : ""}${more && alertsNext ? `&before=${alertsNext}` : ""}`;
  try {
    const r = await api(`/v1/console/alerts?${q}`, { auth: true });
    const list = r.alerts || [];
    document.getElementById("alert-count").textContent = t("desk.openCount", { n: r.openCount ?? list.length });
    const body = a.querySelector("tbody");
    if (more && body) body.insertAdjacentHTML("beforeend", list.map(alertRow).join(""));
    else a.innerHTML = list.length ? `<div class="table-wrap"><table><tbody>${list.map(alertRow).join("")}</tbody></table></div>` : `<p class="muted">${esc(t("desk.none"))}</p>`;
    alertsNext = r.next ?? null;
    document.getElementById("alerts-more").hidden = alertsNext === null;
  } catch (err) { a.innerHTML = `<div class="note err">${esc(friendly(err))}</div>`; }
}

kindSelect.addEventListener("change", () => loadAlerts());
document.getElementById("alerts-more").addEventListener("click", () => loadAlerts(true));
document.getElementById("close-alerts").addEventListener("submit", async (e) => {
  e.preventDefault();
  const out = document.getElementById("close-out");
  const seqs = [...document.querySelectorAll("#alerts .pick:checked")].map((b) => Number(b.value));
  if (!seqs.length) {
    out.innerHTML = `<div class="note err">${esc(t("desk.noneSelected"))}</div>`;
    out.hidden = false;
    return;
  }
  const note = document.getElementById("close-note").value.trim();
  const r = await submitTx("close_alerts", { seqs, note }, out);
  if (r?.status === "committed") {
    document.getElementById("close-note").value = "";
    loadAlerts();
  }
});

async function lists() {
  const c = document.getElementById("complaints");
  await loadAlerts();
  try {
    const r = await api("/v1/console/complaints", { auth: true });
    const list = r.complaints || [];
    c.innerHTML = list.length ? `<div class="table-wrap"><table><tbody>${list.map((x) => `<tr><td class="mono">${esc(x.object)}</td><td>${esc(x.text)}</td><td>${esc(x.city || "")}</td><td>${esc(x.contactPhone || "")}</td><td>${esc(fmtTime(x.time))}</td></tr>`).join("")}</tbody></table></div>` : `<p class="muted">${esc(t("desk.none"))}</p>`;
  } catch (err) { c.innerHTML = `<div class="note err">${esc(friendly(err))}</div>`; }
}

/** The regulator's actions: freeze/unfreeze a lot, recall a lot, a ring or a coupon, suspend or
 * reinstate a member (picked by name). */
function actions() {
  const box = document.getElementById("actions");
  const members = (dir?.members || []).map((m) => [m.org, m.name || m.org]);
  const specs = [
    { method: "freeze_lot", fields: [["gtin", "text", GTIN], ["lot"], ["reason"]] },
    { method: "unfreeze_lot", fields: [["gtin", "text", GTIN], ["lot"], ["reason?"]] },
    { method: "recall", hint: "desk.recallHint", fields: [["target", "select:lot,ring,coupon", "lot"], ["gtin", "text", GTIN], ["number"], ["reason"]] },
    { method: "suspend_member", fields: [["org", "pick", "", members], ["reason"]] },
    { method: "reinstate_member", fields: [["org", "pick", "", members], ["reason?"]] },
  ];
  box.replaceChildren();
  for (const s of specs) {
    box.append(buildForm(s, (args, out) => submitTx(s.method, s.method === "recall" ? recallArgs(args) : args, out)));
  }
}

/** recall {reason} + exactly one of gtin+lot, gtin+serial, gcn; a scanned code works for each. */
function recallArgs({ target, gtin, number, reason }) {
  const c = parseCode(number);
  if (target === "coupon") return { gcn: c.gcn || number, reason };
  if (target === "ring") return { gtin: c.gtin || gtin, serial: c.serial || number, reason };
  return { gtin: c.gtin || gtin, lot: c.lot || number, reason };
}

document.getElementById("trace").addEventListener("submit", (e) => {
  e.preventDefault();
  const code = document.getElementById("code").value.trim();
  if (code && signed()) trace(code);
});
document.addEventListener("xc:lang", () => { if (lastTrace) renderTrace(lastTrace); });

dir = await directory();
actions();
if (signed()) {
  const acct = session.account;
  who.innerHTML = `<p class="muted" id="account">${esc(acct.name || acct.username)} · <span id="org-name">${esc(orgName(dir, acct.org))}</span> · ${esc(t(`role.${acct.role}`))}</p>`;
  lists();
  const q = new URLSearchParams(location.search).get("code");
  if (q) { document.getElementById("code").value = q; trace(q); }
}
