// The member workspace: the signed-in account's forms, by role. Everything goes through the
// session API (POST /v1/console/tx, /v1/console/codes, /v1/console/accounts).
import { initPage, api, session, esc, friendly, note } from "./common.js";
import { t } from "./i18n.js";
import { buildForm, submitTx } from "./forms.js";

initPage("workspace");
const who = document.getElementById("who");
const forms = document.getElementById("forms");
const sheet = document.getElementById("sheet");
const year = new Date().getFullYear();
const GTIN = "09521234543213";

const SPECS = {
  association: [
    { method: "register_member", fields: [["org"], ["role", "select:farm,merchant,lab,logistics"], ["name"], ["licence"], ["areaMu?", "number"], ["zone?"], ["salesRegion?", "list"], ["gln?"]] },
    { method: "open_season", fields: [["season", "text", String(year)], ["opensAt", "datetime"], ["closesAt", "datetime"], ["capPerMu", "number", "300"], ["couponValidityDays", "number", "90"], ["sizes", "numlist", "2.5,3.0,3.5,4.0,4.5,5.0,5.5,6.0"], ["maxScans", "number", "5"], ["scanWindowHours", "number", "24"], ["lateScanDays", "number", "30"], ["shipWithinDays", "number", "3"], ["breakerPercent?", "number", "95"]] },
    { method: "grant_quota", fields: [["season", "text", String(year)], ["org"], ["crabs", "number"]] },
    { method: "commission_rings", codes: "rings", button: "ws.codes", fields: [["gtin", "text", GTIN], ["from", "number", "1"], ["count", "number", "40"], ["prefix", "text", "R"]] },
  ],
  farm: [
    { method: "tag_harvest", fields: [["season", "text", String(year)], ["gtin", "text", GTIN], ["lot"], ["pond"], ["zone"], ["harvestedAt", "datetime"], ["rings", "json", '[{"serial": "R00001", "sex": "male", "weightG": 250}]']] },
  ],
  lab: [
    { method: "inspect_lot", fields: [["gtin", "text", GTIN], ["lot"], ["result", "select:pass,fail"], ["residues?", "json"], ["reportHash"]] },
  ],
  merchant: [
    { method: "issue_coupons", codes: "coupons", fields: [["season", "text", String(year)], ["gcnBase", "text", "952123400026"], ["from", "number", "9001"], ["count", "number", "10"], ["sizeLiang", "number", "3.0"], ["crabsPerCoupon", "number", "8"]] },
    { method: "sell_coupon", fields: [["gcn"], ["toHolderHash?"]] },
    { method: "redeem", fields: [["gcn"], ["sscc"]] },
  ],
  logistics: [
    { method: "ship", fields: [["sscc"], ["to"], ["carrier?"]] },
    { method: "hand_over", fields: [["sscc"]] },
    { method: "receive", fields: [["sscc"]] },
  ],
};

/** Codes first (POST /v1/console/codes → printable sheet + commissioning args), then the transaction. */
async function withCodes(spec, args, out) {
  const { season, sizeLiang, crabsPerCoupon, ...req } = args;
  let codes;
  try {
    codes = await api("/v1/console/codes", { method: "POST", auth: true, body: { kind: spec.codes, ...req } });
  } catch (err) {
    note(out, "err", t("ws.refused", { what: t(`m.${spec.method}`), why: friendly(err) }));
    return;
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
  who.innerHTML = `<p class="muted" id="account">${esc(acct.name || acct.username)} · ${esc(acct.org)} · ${esc(t(`role.${acct.role}`))}</p>`;
  for (const spec of SPECS[acct.role] || []) {
    forms.append(buildForm(spec, (args, out) => (spec.codes ? withCodes(spec, args, out) : submitTx(spec.method, args, out))));
  }
  if (acct.role === "admin" || acct.role === "association") await accounts();
  if (acct.role === "regulator") forms.innerHTML = `<p><a class="btn" href="/desk">${esc(t("nav.desk"))}</a></p>`;
}

async function accounts() {
  const card = buildForm({ method: "accounts", fields: [["username"], ["name"], ["idNumber"], ["phone"], ["role", "select:association,farm,lab,merchant,logistics,regulator"], ["password"]] },
    async (args, out) => {
      try {
        await api("/v1/console/accounts", { method: "POST", auth: true, body: args });
        note(out, "ok", `✔ ${args.username}`);
        list();
      } catch (err) { note(out, "err", friendly(err)); }
    });
  const table = document.createElement("div");
  card.append(table);
  forms.append(card);
  async function list() {
    try {
      const r = await api("/v1/console/accounts", { auth: true });
      const rows = r.accounts || r || [];
      table.innerHTML = `<div class="table-wrap"><table><tbody>${rows.map((a) => `<tr><td>${esc(a.username)}</td><td>${esc(a.name)}</td><td>${esc(t(`role.${a.role}`))}</td><td>${esc(a.status || "")}</td></tr>`).join("")}</tbody></table></div>`;
    } catch (err) { table.innerHTML = `<div class="note err">${esc(friendly(err))}</div>`; }
  }
  list();
}

main();
