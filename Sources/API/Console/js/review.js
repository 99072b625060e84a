// 三资审核台: the township station's (or the regulator's) desk. The queue is the 三资 contract's
// reviewQueue, which needs the reviewer's role: it is read through the console session
// (POST /v1/console/wasm/query, signed in as the account). Decisions and alert handling are
// transactions `wasm.call` of `sanzi` through POST /v1/console/tx.
import { initPage, api, session, esc, friendly, yuan, ymd } from "./common.js";
import { t } from "./i18n.js";
import { submitTx } from "./forms.js";

initPage("review");
const who = document.getElementById("who");
const pendingBox = document.getElementById("pending");
const alertsBox = document.getElementById("alerts");
let last = null;

function call(method, args, out) {
  return submitTx("call", { contract: "sanzi", method, args }, out, "wasm");
}

function pendingCard(x) {
  const spend = x.type === "spend";
  const key = `${x.village}/${x.type}/${x.id}`;
  return `<div class="card pending" data-key="${esc(key)}" data-id="${esc(x.id)}" data-type="${esc(x.type)}" data-village="${esc(x.village)}">
    <h3>${esc(t(spend ? "rv.spend" : "rv.disposal"))} <span class="mono">${esc(x.id)}</span> · ${esc(t("rv.village"))} <a class="mono" href="/village?v=${encodeURIComponent(x.village)}">${esc(x.village)}</a></h3>
    <dl class="facts">
      ${spend ? `<dt>${esc(t("vg.purpose"))}</dt><dd>${esc(x.purpose)}</dd><dt>${esc(t("vg.payee"))}</dt><dd>${esc(x.payee)}</dd><dt>${esc(t("vg.amount"))}</dt><dd class="amount">${yuan(x.amountFen)}</dd>`
        : `<dt>${esc(t("vg.name"))}</dt><dd class="mono">${esc(x.item)}</dd><dt>${esc(t("vg.method"))}</dt><dd>${esc(t(`dm.${x.method}`))}</dd>`}
      <dt>${esc(t("rv.decision"))}</dt><dd class="mono">${esc((x.meetingHash || "").slice(0, 16))}… / ${esc((x.noticeHash || "").slice(0, 16))}…</dd>
    </dl>
    <form class="decide">
      ${spend ? `<label>${esc(t("rv.approvedYuan"))}<input class="approved" type="number" min="0" step="0.01" value="${(x.amountFen / 100).toFixed(2)}"></label>` : ""}
      <label>${esc(t("rv.comment"))}<input class="comment" maxlength="200"></label>
      <div class="row"><button class="primary approve" type="button">${esc(t("rv.approve"))}</button><button class="secondary reject" type="button">${esc(t("rv.reject"))}</button></div>
    </form><div class="result" hidden></div></div>`;
}

function alertCard(a) {
  return `<div class="card alert" data-seq="${a.seq}" data-kind="${esc(a.kind)}" data-village="${esc(a.village || "")}">
    <h3>${esc(t(`al.${a.kind}`))} <span class="muted">#${a.seq}</span></h3>
    <p>${esc(a.detail)}</p><p class="muted"><a class="mono" href="/village?v=${encodeURIComponent(a.village || "")}">${esc(a.village || "")}</a> · <span class="mono">${esc(a.ref)}</span> · ${ymd(a.date)}</p>
    <form class="row resolve"><input class="note-in" maxlength="500" required placeholder="${esc(t("rv.note"))}"><button class="primary" type="submit">${esc(t("rv.resolve"))}</button></form>
    <div class="result" hidden></div></div>`;
}

function render(q) {
  const pending = q.pending || [];
  const alerts = q.alerts || [];
  document.getElementById("pending-count").textContent = `（${pending.length}）`;
  document.getElementById("alert-count").textContent = `（${alerts.length}）`;
  pendingBox.innerHTML = pending.length ? pending.map(pendingCard).join("") : `<p class="muted" id="no-pending">${esc(t("rv.none"))}</p>`;
  alertsBox.innerHTML = alerts.length ? alerts.map(alertCard).join("") : `<p class="muted" id="no-alerts">${esc(t("rv.noAlerts"))}</p>`;
  for (const card of pendingBox.querySelectorAll(".pending")) {
    const out = card.querySelector(".result");
    const decide = async (approve) => {
      const args = { village: card.dataset.village, id: card.dataset.id, approve };
      const comment = card.querySelector(".comment").value.trim();
      if (comment) args.comment = comment;
      const amount = card.querySelector(".approved");
      if (approve && amount && amount.value !== "") args.approvedFen = Math.round(Number(amount.value) * 100);
      for (const b of card.querySelectorAll("button")) b.disabled = true;
      const r = await call(card.dataset.type === "spend" ? "reviewSpending" : "reviewDisposal", args, out);
      if (r?.status === "committed") { out.dataset.done = approve ? "approved" : "rejected"; setTimeout(load, 600); }
      else for (const b of card.querySelectorAll("button")) b.disabled = false;
    };
    card.querySelector(".approve").addEventListener("click", () => decide(true));
    card.querySelector(".reject").addEventListener("click", () => decide(false));
  }
  for (const card of alertsBox.querySelectorAll(".alert")) {
    card.querySelector("form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const out = card.querySelector(".result");
      const note = card.querySelector(".note-in").value.trim();
      const r = await call("resolveAlert", { village: card.dataset.village, seq: Number(card.dataset.seq), note }, out);
      if (r?.status === "committed") setTimeout(load, 600);
    });
  }
}

async function load() {
  try {
    last = (await api("/v1/console/wasm/query", { method: "POST", auth: true, body: { contract: "sanzi", method: "reviewQueue", args: {} } })).result;
    render(last);
  } catch (err) {
    last = null;
    pendingBox.innerHTML = `<div class="note err" id="queue-error" data-code="${esc(err.code || "")}">${esc(friendly(err))}</div>`;
    alertsBox.innerHTML = "";
  }
}

document.addEventListener("xc:lang", () => { if (last) render(last); });
if (!session.signedIn) {
  who.innerHTML = `<div class="note info" id="need-signin">${esc(t("rv.need"))} <a href="/signin?next=/review">${esc(t("nav.signin"))}</a></div>`;
} else {
  const acct = session.account;
  who.innerHTML = `<p class="muted" id="account">${esc(acct.name || acct.username)} · ${esc(acct.org)} · ${esc(t(`role.${acct.role}`))}</p>`;
  if (!["township", "regulator"].includes(acct.role)) who.insertAdjacentHTML("beforeend", `<div class="note info" id="wrong-role">${esc(t("rv.role"))}</div>`);
  load();
}
