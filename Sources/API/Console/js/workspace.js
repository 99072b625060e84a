// The member workspace: the signed-in account's jobs, by role. Everything goes through the
// session API (POST /v1/console/tx, /v1/console/codes, /v1/console/accounts, GET /v1/console/stock,
// /v1/console/alerts); orgs show by name (orgs.js), fields in the page's language (forms.js).
import { initPage, api, session, esc, friendly, note, fmtTime } from "./common.js";
import { t } from "./i18n.js";
import { buildForm, submitTx } from "./forms.js";
import { directory, orgName, membersOf } from "./orgs.js";

initPage("workspace");
const who = document.getElementById("who");
const forms = document.getElementById("forms");
const sheet = document.getElementById("sheet");
const year = String(new Date().getFullYear());
const GTIN = "09521234543213";

/** Now as a datetime-local value (the browser's time zone). */
function nowLocal() {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

/** The forms of each role; `dir` is the org directory, `me` the account's own member record. */
function specs(role, dir, me) {
  const farms = membersOf(dir, "farm");
  const merchants = membersOf(dir, "merchant");
  const carriers = membersOf(dir, "logistics");
  const zones = [...new Set(dir.members.map((m) => m.zone).filter(Boolean))];
  const ponds = (me?.ponds || []).map((p) => [p.pond, p.pond]);
  const nonMembers = dir.orgs.filter((o) => !dir.byOrg.has(o)).map((o) => [o, o]);
  const shipTo = [...merchants, ["consumer", t("o.consumer")]];
  const ship = { method: "ship", fields: [["sscc", "sscc"], ["to", "pick", "", shipTo], ["carrier?", "pick", carriers[0]?.[0] || "", carriers]] };
  const pack = { method: "pack_box", fields: [["sscc", "sscc"], ["gtin", "text", GTIN], ["serials", "serials"]] };
  return {
    association: [
      { method: "register_member", fields: [["org", "choose", "", nonMembers], ["role", "select:farm,merchant,lab,logistics"], ["name"], ["licence"], ["areaMu?", "number"], ["zone?", "choose", "", zones.map((z) => [z, z])], ["salesRegion?", "list"], ["gln?"]] },
      { method: "open_season", fields: [["season", "text", year], ["opensAt", "datetime"], ["closesAt", "datetime"], ["capPerMu", "number", "300"], ["couponValidityDays", "number", "90"], ["sizes", "numlist", "2.5,3.0,3.5,4.0,4.5,5.0,5.5,6.0"], ["maxScans", "number", "5"], ["scanWindowHours", "number", "24"], ["lateScanDays", "number", "30"], ["shipWithinDays", "number", "3"], ["breakerPercent?", "number", "95"]] },
      { method: "grant_quota", fields: [["season", "text", year], ["org", "pick", "", merchants], ["crabs", "number"]] },
      { method: "commission_rings", codes: "rings", button: "ws.codes", fields: [["gtin", "text", GTIN], ["from", "number", "1"], ["count", "number", "40"], ["prefix", "text", "R"]] },
      { method: "allocate_rings", hint: "ws.serialsHint", fields: [["org", "pick", "", farms], ["season", "text", year], ["gtin", "text", GTIN], ["serials", "serials"]] },
    ],
    farm: [
      { method: "tag_harvest", hint: "ws.ringsHint", fields: [["season", "text", year], ["gtin", "text", GTIN], ["lot"], ["pond", "choose", ponds[0]?.[0] || "", ponds], ["zone", "pick", me?.zone || zones[0] || "", zones.map((z) => [z, z])], ["harvestedAt", "datetime", nowLocal()], ["rings", "rings"]] },
      pack, ship,
    ],
    lab: [
      { method: "inspect_lot", fields: [["gtin", "text", GTIN], ["lot"], ["result", "select:pass,fail", "pass"], ["residues?", "kv"], ["reportHash", "sha256"]] },
    ],
    merchant: [
      { method: "receive", fields: [["sscc", "sscc"]] },
      { method: "issue_coupons", codes: "coupons", fields: [["season", "text", year], ["gcnBase", "text", "952123400026"], ["from", "number", "9001"], ["count", "number", "10"], ["sizeLiang", "number", "3.0"], ["crabsPerCoupon", "number", "8"]] },
      { method: "sell_coupon", fields: [["gcn", "gcn"], ["toHolderHash?"]] },
      { method: "redeem", hint: "ws.redeemHint", fields: [["gcn", "gcn"], ["sscc", "sscc"]] },
      { method: "refund_coupon", fields: [["gcn", "gcn"], ["reason?"]] },
      pack, ship,
    ],
    logistics: [
      { method: "receive", fields: [["sscc", "sscc"]] },
      { method: "hand_over", hint: "ws.handOverHint", fields: [["sscc", "sscc"]] },
      ship,
    ],
  }[role] || [];
}

/** Codes first (POST /v1/console/codes → printable sheet + commissioning args), then the transaction. */
async function withCodes(spec, args, out) {
  const { season, sizeLiang, crabsPerCoupon, ...req } = args;
  let codes;
  try {
    codes = await api("/v1/console/codes", { method: "POST", auth: true, body: { kind: spec.codes, ...req } });
  } catch (err) {
    note(out, "err", t("ws.refused", { what: t(`m.${spec.method}`), why: friendly(err) }));
    return null;
  }
  const c = codes.commission || {};
  const base = c.args || c;
  const txArgs = spec.codes === "rings" ? base : { season, sizeLiang, crabsPerCoupon, coupons: base.coupons || [] };
  const r = await submitTx(spec.method, txArgs, out);
  if (r && r.status === "committed") {
    const csv = codes.csv ? `<a class="btn" download="${esc(spec.codes)}.csv" href="data:text/csv;charset=utf-8,${encodeURIComponent(codes.csv)}">CSV</a>` : "";
    sheet.innerHTML = `<section class="card"><h2>${esc(t("ws.codes"))}</h2><p class="noprint">${csv} <button class="secondary" type="button" onclick="window.print()">🖨</button></p>
      ${(codes.svg || []).map((svg) => `<div class="sheet-page">${svg}</div>`).join("")}</section>`;
  }
  return r;
}

async function main() {
  const acct = session.account;
  if (!session.signedIn || !acct) {
    who.innerHTML = `<div class="note info">${esc(t("ws.need"))} <a href="/signin?next=/workspace">${esc(t("nav.signin"))}</a></div>`;
    return;
  }
  try {
    const me = await api("/v1/console/me", { auth: true });
    Object.assign(acct, me.account || me);
  } catch (err) {
    if (err.status === 401) { session.clear(); location.href = "/signin?next=/workspace"; return; }
    who.innerHTML = `<div class="note err">${esc(friendly(err))}</div>`;
  }
  const dir = await directory();
  who.innerHTML = `<p class="muted" id="account">${esc(acct.name || acct.username)} · <span id="org-name">${esc(orgName(dir, acct.org))}</span> · ${esc(t(`role.${acct.role}`))}</p>`;
  if (acct.role === "regulator") {
    forms.innerHTML = `<p><a class="btn" href="/desk">${esc(t("nav.desk"))}</a></p>`;
    return;
  }
  if (acct.role === "merchant") forms.append(stockCard(acct.org));
  if (acct.role === "association") {
    forms.append(membersCard(dir));
    forms.append(alertsCard());
  }
  const me = dir.byOrg.get(acct.org);
  for (const spec of specs(acct.role, dir, me)) {
    forms.append(buildForm(spec, async (args, out) => {
      const r = spec.codes ? await withCodes(spec, args, out) : await submitTx(spec.method, args, out);
      if (r?.status === "committed") document.dispatchEvent(new CustomEvent("xc:committed", { detail: spec.method }));
      return r;
    }));
  }
  if (acct.role === "admin" || acct.role === "association") await accounts(acct, dir);
}

/** The merchant's stock: crabs held by size, promised by live coupons, free to promise. */
function stockCard(org) {
  const card = document.createElement("section");
  card.className = "card";
  card.id = "stock";
  card.innerHTML = `<h2>${esc(t("ws.stock"))}</h2>
    <form class="row"><div><label for="stock-season">${esc(t("f.season"))}</label><input id="stock-season" value="${esc(year)}" required></div>
    <button class="secondary" type="submit">${esc(t("ws.refresh"))}</button></form><div id="stock-view"></div>`;
  const view = card.querySelector("#stock-view");
  async function load() {
    const season = card.querySelector("#stock-season").value.trim();
    try {
      const s = await api(`/v1/console/stock?season=${encodeURIComponent(season)}&org=${encodeURIComponent(org)}`, { auth: true });
      const st = s.stock || {};
      view.innerHTML = `<div class="table-wrap"><table><thead><tr><th>${esc(t("ws.size"))}</th><th>${esc(t("ws.onHand"))}</th><th>${esc(t("ws.promised"))}</th><th>${esc(t("ws.free"))}</th></tr></thead>
        <tbody>${(s.sizes || []).map((r) => `<tr data-size="${esc(Number(r.size).toFixed(1))}"><td>${esc(t("ws.liang", { n: Number(r.size).toFixed(1) }))}</td><td class="on-hand">${r.onHand}</td><td class="promised">${r.promised}</td><td class="free">${r.free}</td></tr>`).join("")}</tbody></table></div>
        <p class="muted" id="quota">${esc(t("ws.quota", { granted: st.granted ?? 0, promised: st.promised ?? 0, delivered: st.delivered ?? 0, left: s.quotaLeft ?? 0 }))}${st.issuanceSuspended ? ` · <span class="badge bad">${esc(t("ws.suspendedIssuance"))}</span>` : ""}</p>`;
    } catch (err) { view.innerHTML = `<div class="note err">${esc(friendly(err))}</div>`; }
  }
  card.querySelector("form").addEventListener("submit", (e) => { e.preventDefault(); load(); });
  document.addEventListener("xc:committed", load);
  load();
  return card;
}

/** The association's members: name, org, role, zone, standing. */
function membersCard(dir) {
  const card = document.createElement("section");
  card.className = "card";
  card.id = "members";
  const rows = dir.members.map((m) => `<tr data-org="${esc(m.org)}"><td>${esc(m.name || m.org)}</td><td>${esc(t(`role.${m.role}`))}</td><td>${esc(m.zone || m.areaMu ? `${m.zone || ""}${m.areaMu ? ` · ${t("ws.mu", { n: m.areaMu })}` : ""}` : (m.salesRegion || []).join("、"))}</td><td>${m.suspended ? `<span class="badge bad">${esc(t("ws.suspended"))}</span>` : `<span class="badge ok">${esc(t("ws.active"))}</span>`}</td></tr>`).join("");
  card.innerHTML = `<h2>${esc(t("ws.members"))}</h2>${rows ? `<div class="table-wrap"><table><tbody>${rows}</tbody></table></div>` : `<p class="muted">${esc(t("desk.none"))}</p>`}`;
  return card;
}

/** The association's open alerts, newest first; ticked ones close with one reason. */
function alertsCard() {
  const card = document.createElement("section");
  card.className = "card";
  card.id = "ws-alerts";
  card.innerHTML = `<h2>${esc(t("desk.alerts"))} <span class="muted" id="ws-alert-count"></span></h2><div id="ws-alert-list"></div>
    <form class="row"><div><label for="ws-close-note">${esc(t("f.note"))}</label><input id="ws-close-note" maxlength="500" required></div><button class="primary" type="submit">${esc(t("desk.closeSel"))}</button></form>
    <div class="result" hidden></div>`;
  const list = card.querySelector("#ws-alert-list");
  const out = card.querySelector(".result");
  async function load() {
    try {
      const r = await api("/v1/console/alerts?open=true&limit=20", { auth: true });
      const alerts = r.alerts || [];
      card.querySelector("#ws-alert-count").textContent = t("desk.openCount", { n: r.openCount ?? alerts.length });
      list.innerHTML = alerts.length ? `<div class="table-wrap"><table><tbody>${alerts.map((x) => `<tr data-seq="${x.seq}"><td><input type="checkbox" class="pick" value="${x.seq}" aria-label="#${x.seq}"></td><td>${esc(t(`r.${x.kind}`))}</td><td class="mono">${esc(x.object)}</td><td>${esc(fmtTime(x.lastAt || x.time))}</td></tr>`).join("")}</tbody></table></div>` : `<p class="muted">${esc(t("desk.none"))}</p>`;
    } catch (err) { list.innerHTML = `<div class="note err">${esc(friendly(err))}</div>`; }
  }
  card.querySelector("form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const seqs = [...list.querySelectorAll(".pick:checked")].map((b) => Number(b.value));
    if (!seqs.length) { note(out, "err", t("desk.noneSelected")); return; }
    const r = await submitTx("close_alerts", { seqs, note: card.querySelector("#ws-close-note").value.trim() }, out);
    if (r?.status === "committed") load();
  });
  load();
  return card;
}

/** Accounts: an admin's own org; the association's hosted member orgs (pick the org). */
async function accounts(acct, dir) {
  const assoc = acct.role === "association";
  const memberOrgs = dir.members.filter((m) => ["farm", "merchant", "lab", "logistics"].includes(m.role)).map((m) => [m.org, m.name || m.org]);
  // The association's staff accounts of a hosted member hold the member's registered role.
  const fields = assoc
    ? [["org", "pick", "", memberOrgs], ["username"], ["name"], ["idNumber"], ["phone"], ["password"]]
    : [["username"], ["name"], ["idNumber"], ["phone"], ["role", "select:association,farm,lab,merchant,logistics,regulator"], ["password"]];
  const card = buildForm({ method: "accounts", fields }, async (args, out) => {
    if (assoc) args.role = dir.byOrg.get(args.org)?.role || "";
    try {
      await api("/v1/console/accounts", { method: "POST", auth: true, body: args });
      note(out, "ok", t("ws.accountMade", { user: args.username }));
      out.dataset.status = "created";
      list();
    } catch (err) { note(out, "err", friendly(err)); out.dataset.status = "error"; out.dataset.code = err.code || ""; }
  });
  card.id = "accounts";
  const pw = card.querySelector("input[name=password]");
  if (pw) pw.type = "password";
  const table = document.createElement("div");
  table.id = "account-list";
  card.append(table);
  forms.append(card);
  async function list() {
    try {
      const r = await api("/v1/console/accounts", { auth: true });
      const rows = r.accounts || r || [];
      table.innerHTML = rows.length ? `<div class="table-wrap"><table><tbody>${rows.map((a) => `<tr data-user="${esc(a.username)}"><td>${esc(a.username)}</td><td>${esc(a.name)}</td><td>${esc(orgName(dir, a.org))}</td><td>${esc(t(`role.${a.role}`))}</td><td>${esc(t(`acct.${a.status}`))}</td></tr>`).join("")}</tbody></table></div>` : `<p class="muted">${esc(t("desk.none"))}</p>`;
    } catch (err) { table.innerHTML = `<div class="note err">${esc(friendly(err))}</div>`; }
  }
  list();
}

main();
