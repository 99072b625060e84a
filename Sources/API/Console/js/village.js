// 村务公开: a village collective's public disclosure from the 三资 contract (`sanzi`), read
// anonymously through POST /v1/wasm/contracts/sanzi/query {method: "disclosure"}.
import { initPage, api, esc, friendly, yuan, ymd } from "./common.js";
import { t } from "./i18n.js";

initPage("village");
const form = document.getElementById("pick");
const out = document.getElementById("out");
const input = document.getElementById("village");
let last = null;

const month = (m) => { const s = String(m); return `${s.slice(0, 4)}-${s.slice(4)}`; };
const monthArg = (v) => (v ? Number(v.replace("-", "")) : undefined);
const badge = (status) => {
  const cls = ["approved", "done", "resolved", "active", "leased"].includes(status) ? "ok" : ["rejected", "open"].includes(status) ? "bad" : "";
  return `<span class="badge ${cls}" data-status="${esc(status)}">${esc(t(`st.${status}`))}</span>`;
};
const table = (id, head, rows) => rows.length
  ? `<div class="table-wrap"><table id="${id}"><thead><tr>${head.map((h) => `<th>${esc(t(h))}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table></div>`
  : `<p class="muted" id="${id}">${esc(t("vg.none"))}</p>`;

function render(d, fuel) {
  const v = d.village || {};
  const f = d.funds || {};
  const months = d.months || [];
  const peak = Math.max(1, ...months.map((m) => Math.max(m.incomeFen || 0, m.spendingFen || 0)));
  const bar = (n, cls) => `<span class="mbar ${cls}" style="width:${Math.round((100 * (n || 0)) / peak)}%"></span>`;
  out.innerHTML = `
  <section class="card" id="summary"><h2 id="village-name">${esc(v.name)}</h2>
    <p class="muted"><span class="mono">${esc(v.village)}</span> · ${esc(t("vg.township"))} <span class="mono">${esc(v.township)}</span></p>
    <div class="stats">
      <div class="stat"><div class="k">${esc(t("vg.opening"))}</div><div class="v" id="opening">${yuan(f.openingFen)}</div></div>
      <div class="stat"><div class="k">${esc(t("vg.income"))}</div><div class="v" id="income">${yuan(f.incomeFen)}</div></div>
      <div class="stat"><div class="k">${esc(t("vg.spending"))}</div><div class="v" id="spending">${yuan(f.spendingFen)}</div></div>
      <div class="stat"><div class="k">${esc(t("vg.balance"))}</div><div class="v" id="balance">${yuan(f.balanceFen)}</div></div>
    </div>
    <p class="muted">${esc(t("vg.threshold"))}</p></section>
  <section class="card"><h2>${esc(t("vg.months"))}</h2>${table("months", ["vg.month", "vg.monthIncome", "vg.monthSpending"], months.map((m) => `<tr data-month="${m.month}"><td>${month(m.month)}</td>
      <td>${yuan(m.incomeFen)}<br>${bar(m.incomeFen, "in")}</td><td>${yuan(m.spendingFen)}<br>${bar(m.spendingFen, "outg")}</td></tr>`))}</section>
  <section class="card"><h2>${esc(t("vg.alerts"))}</h2>${table("alerts", ["vg.kind", "vg.detail", "vg.date", "vg.status"], (d.alerts || []).map((a) => `<tr data-kind="${esc(a.kind)}"><td>${esc(t(`al.${a.kind}`))}<br><span class="muted mono">${esc(a.ref)}</span></td>
      <td>${esc(a.detail)}</td><td>${ymd(a.date)}</td><td>${badge(a.status)}</td></tr>`))}</section>
  <section class="card"><h2>${esc(t("vg.items"))}</h2>${table("items", ["vg.id", "vg.name", "vg.category", "vg.area", "vg.value", "vg.status"], (d.items || []).map((i) => `<tr data-id="${esc(i.id)}"><td class="mono">${esc(i.id)}</td>
      <td>${esc(i.name)}${i.location ? `<br><span class="muted">${esc(i.location)}</span>` : ""}</td><td>${esc(t(`cat.${i.category}`))}</td>
      <td>${i.areaCentiMu ? esc(t("vg.mu", { n: (i.areaCentiMu / 100).toString() })) : "—"}</td><td>${i.valueFen ? yuan(i.valueFen) : "—"}</td><td>${badge(i.status)}${i.lease ? ` <span class="mono muted">${esc(i.lease)}</span>` : ""}</td></tr>`))}</section>
  <section class="card"><h2>${esc(t("vg.leases"))}</h2>${table("leases", ["vg.id", "vg.tenant", "vg.rent", "vg.term", "vg.paid", "vg.bidding"], (d.leases || []).map((l) => `<tr data-id="${esc(l.id)}"><td class="mono">${esc(l.id)}<br><span class="muted">${esc(l.item)}</span></td>
      <td>${esc(l.tenant)}</td><td>${yuan(l.annualRentFen)}</td><td>${ymd(l.startDate)} – ${ymd(l.endDate)}</td>
      <td>${yuan(l.paidFen)} / ${yuan(l.totalFen)}</td><td>${l.bidding ? `<span class="mono">${esc(l.bidding)}</span>` : `<span class="badge bad">${esc(t("vg.noBidding"))}</span>`}</td></tr>`))}</section>
  <section class="card"><h2>${esc(t("vg.spendList"))}</h2>${table("spend", ["vg.id", "vg.purpose", "vg.amount", "vg.approved", "vg.paidOut", "vg.status"], (d.spending || []).map((x) => `<tr data-id="${esc(x.id)}"><td class="mono">${esc(x.id)}</td>
      <td>${esc(x.purpose)}<br><span class="muted">${esc(x.payee)}</span></td><td>${yuan(x.amountFen)}</td><td>${x.status === "approved" ? yuan(x.approvedFen) : "—"}</td><td>${yuan(x.paidFen)}</td><td>${badge(x.status)}</td></tr>`))}</section>
  <section class="card"><h2>${esc(t("vg.payments"))}</h2>${table("payments", ["vg.id", "vg.purpose", "vg.amount", "vg.date", "vg.channel"], (d.payments || []).map((p) => `<tr data-id="${esc(p.id)}"><td class="mono">${esc(p.id)}${p.spending ? `<br><span class="muted">${esc(p.spending)}</span>` : ""}</td>
      <td>${esc(p.purpose || "")}<br><span class="muted">${esc(p.payee || "")}</span></td><td>${yuan(p.amountFen)}</td><td>${ymd(p.date)}</td><td>${esc(t(`ch.${p.channel}`))}</td></tr>`))}</section>
  <section class="card"><h2>${esc(t("vg.disposals"))}</h2>${table("disposals", ["vg.id", "vg.name", "vg.method", "vg.status"], (d.disposals || []).map((x) => `<tr data-id="${esc(x.id)}"><td class="mono">${esc(x.id)}</td>
      <td class="mono">${esc(x.item)}</td><td>${esc(t(`dm.${x.method}`))}</td><td>${badge(x.status)}</td></tr>`))}</section>
  <p class="muted">${esc(t("vg.asOf", { fuel: fuel }))}</p>`;
}

async function show() {
  const village = input.value.trim();
  if (!village) { out.innerHTML = `<div class="note err">${esc(t("vg.need"))}</div>`; return; }
  const args = { village };
  const from = monthArg(document.getElementById("from").value);
  const to = monthArg(document.getElementById("to").value);
  if (from) args.fromMonth = from;
  if (to) args.toMonth = to;
  out.innerHTML = `<p class="muted">…</p>`;
  try {
    const r = await api("/v1/wasm/contracts/sanzi/query", { method: "POST", body: { method: "disclosure", args } });
    last = r;
    render(r.result, r.fuelUsed);
  } catch (err) {
    last = null;
    out.innerHTML = `<div class="note err" id="village-error" data-code="${esc(err.code || "")}">${esc(friendly(err))}</div>`;
  }
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const u = new URL(location.href);
  u.searchParams.set("v", input.value.trim());
  history.replaceState(null, "", u);
  show();
});
document.addEventListener("xc:lang", () => { if (last) render(last.result, last.fuelUsed); });
const v = new URLSearchParams(location.search).get("v");
if (v) { input.value = v; show(); }
