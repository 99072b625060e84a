// The consumer's verify page: /verify?code=… or a GS1 Digital Link path (/01/…/21/…?s=SECRET).
import { initPage, api, esc, fmtTime, fmtDate, friendly, note } from "./common.js";
import { t } from "./i18n.js";
import { bindCity, deviceId, locateCity } from "./city.js";

initPage("home");
// No check before the consumer has said where they are: the first choice starts it.
const city = bindCity(document.getElementById("city"), () => { if (!last) check(); });
const result = document.getElementById("result");
let last = null;

/** The full code from the address: ?code=… on /verify, else the Digital Link path with its ?s= secret. */
export function codeFromLocation(loc = location) {
  const params = new URLSearchParams(loc.search);
  if (loc.pathname === "/verify") return params.get("code") || "";
  const s = params.get("s");
  return `${loc.origin}${loc.pathname}${s ? `?s=${encodeURIComponent(s)}` : ""}`;
}

const code = codeFromLocation();

async function check() {
  if (!code) {
    result.innerHTML = `<p class="note info">${esc(t("verify.nocode"))} <a href="/">${esc(t("nav.home"))}</a></p>`;
    return;
  }
  if (!city()) {
    result.innerHTML = `<p class="note info" id="pick-city">${esc(t("verify.pickcity"))}</p>`;
    document.getElementById("city").focus();
    return;
  }
  result.innerHTML = `<p class="muted">${esc(t("verify.loading"))}</p>`;
  try {
    const q = `code=${encodeURIComponent(code)}&city=${encodeURIComponent(city())}&device=${deviceId()}`;
    last = await api(`/v1/verify?${q}`);
    render();
  } catch (e) {
    last = null;
    result.innerHTML = `<div class="note err" id="verify-error">${esc(friendly(e))}</div>`;
  }
  document.getElementById("complain").hidden = false;
  showCouponActions();
}

// Consumer coupon flows: a live coupon's holder books its redemption or gives it to another phone,
// the phone proved by a one-time code (POST /v1/coupons/{gcn}/otp, then /book or /transfer).
/** The coupon's secret as printed: `?s=` of a Digital Link URI or `#SECRET` of a short code. */
export function secretOf(text) {
  const m = /[?&]s=([0-9A-Za-z]+)/.exec(text) || /#([0-9A-Za-z]+)\s*$/.exec(text);
  return m ? m[1].toUpperCase() : "";
}

function couponGcn() {
  const m = last && last.kind === "gcn" ? /^255\/([0-9]+)$/.exec(last.object || "") : null;
  return m ? m[1] : "";
}

function showCouponActions() {
  const box = document.getElementById("coupon-actions");
  const live = last && last.kind === "gcn" && ["genuine", "suspicious"].includes(last.status) &&
    ["issued", "sold", "booked"].includes((last.details || {}).status || "issued");
  box.hidden = !live;
  if (!live) return;
  const secret = secretOf(code);
  const input = document.getElementById("c-secret");
  if (!input.value) input.value = secret;
  document.getElementById("coupon-secret-row").hidden = !!secret;
}

function couponBody(extra = {}) {
  return {
    secret: document.getElementById("c-secret").value.trim(),
    phone: document.getElementById("c-phone").value.trim(),
    ...extra,
  };
}

async function couponStep(action, body, done) {
  const out = document.getElementById("coupon-result");
  const gcn = couponGcn();
  if (!gcn) return null;
  out.dataset.outcome = "";
  try {
    const r = await api(`/v1/coupons/${gcn}/${action}`, { method: "POST", body });
    note(out, "ok", done(r));
    out.dataset.outcome = action;
    return r;
  } catch (err) {
    note(out, "err", t("coupon.err", { msg: friendly(err) }));
    out.dataset.outcome = `${action}:${err.code || "error"}`;
    return null;
  }
}

document.getElementById("c-send").addEventListener("click", () =>
  couponStep("otp", couponBody(), (r) => t("coupon.sent", { to: r.to, min: Math.round((r.expiresIn || 300) / 60) })));
document.getElementById("c-book").addEventListener("click", async () => {
  if (!city()) { document.getElementById("city").focus(); return; }
  const r = await couponStep("book", couponBody({ code: document.getElementById("c-code").value.trim(), city: city() }),
    (x) => t(x.status === "committed" ? "coupon.booked" : "coupon.pending", { city: x.city, txid: (x.txid || "").slice(0, 16) }));
  if (r) { document.getElementById("c-code").value = ""; check(); }
});
document.getElementById("c-gift").addEventListener("click", async () => {
  const body = couponBody({ code: document.getElementById("c-code").value.trim(), toPhone: document.getElementById("c-to").value.trim() });
  const r = await couponStep("transfer", body,
    (x) => t(x.status === "committed" ? "coupon.given" : "coupon.pending", { to: x.to, txid: (x.txid || "").slice(0, 16) }));
  if (r) { document.getElementById("c-code").value = ""; document.getElementById("c-phone").value = ""; }
});

function reasonText(r) {
  const k = `r.${r}`;
  const s = t(k);
  return s === k ? r : s;
}

function render() {
  const v = last;
  const d = v.details || {};
  const status = ["genuine", "unknown", "redeemed", "recalled", "suspicious"].includes(v.status) ? v.status : "suspicious";
  const reasons = (v.reasons || []).filter((r) => !(status === "recalled" && r === "recalled"));
  const showReasons = status === "suspicious" || status === "unknown" || (status === "recalled" && reasons.length);
  const facts = [];
  const add = (k, val) => { if (val !== null && val !== undefined && val !== "") facts.push([t(k), val]); };
  if (d.farm) add("story.farm", d.farm.name || d.farm.org);
  add("story.zone", d.zone);
  add("story.pond", d.pond);
  if (d.pondLease && d.pondLease.village) {
    const l = d.pondLease;
    facts.push([t("story.pondLease"), `<a id="pond-lease" href="/village?v=${encodeURIComponent(l.village)}">${esc(l.id)}</a> <span class="muted">${esc(l.contract)} · ${esc(l.village)}</span>`, true]);
  }
  if (d.harvestedAt) add("story.harvest", fmtDate(d.harvestedAt));
  add("story.lot", d.lot);
  if (d.sex) add("story.sex", t(`sex.${d.sex}`));
  if (d.weightG) add("story.weight", `${d.weightG} g`);
  if (d.inspection) {
    const pass = d.inspection.result === "pass";
    facts.push([t("story.inspection"), `<span class="${pass ? "pass" : "fail"}">${esc(t(pass ? "story.pass" : "story.fail"))}</span> · ${esc(fmtDate(d.inspection.time))}${d.inspection.lab ? ` · ${esc(d.inspection.lab)}` : ""}`, true]);
  }
  if (d.merchant) add("story.merchant", d.merchant.name || d.merchant.org);
  if (v.kind === "gcn" || d.sizeLiang) {
    if (d.sizeLiang) add("story.size", t("story.sizeV", { size: d.sizeLiang, n: d.crabsPerCoupon ?? "?" }));
    if (d.validUntil) add("story.validUntil", fmtDate(d.validUntil));
    if (d.redeemedAt) add("story.redeemedAt", fmtTime(d.redeemedAt));
  }
  add("story.box", d.box);
  // A box sticker: its crabs, lots, holder and shipping state; a lot code: its size.
  if (d.crabs !== undefined) add("story.crabs", t("story.crabsN", { n: d.crabs }));
  if (Array.isArray(d.lots) && d.lots.length) add("story.lot", d.lots.join(", "));
  if (d.custodian) add("story.custodian", d.custodian.org === "consumer" ? t("party.consumer") : d.custodian.name || d.custodian.org);
  if (v.kind === "sscc" && d.status) add("story.boxStatus", t(`box.${d.status}`));
  if (v.kind === "lot" && d.count) add("story.crabs", t("story.crabsN", { n: d.count }));
  add("story.season", d.season);
  if (status !== "unknown" && (v.kind === "sgtin" || v.kind === "gcn")) {
    // The count includes this check (when the node recorded it), with the first check's time.
    const n = d.scans ?? 0;
    add("story.scans", n ? t("story.scansN", { n }) : t("story.never"));
    if (d.firstScanAt) add("story.firstScan", fmtTime(d.firstScanAt));
  }
  result.innerHTML = `
    <section class="verdict ${status}" id="verdict" data-status="${esc(v.status)}">
      <div class="big">${esc(t(`v.${status}`))}</div>
      <div class="sub">${esc(t(`v.${status}.sub`))}</div>
      ${showReasons && reasons.length ? `<ul id="reasons">${reasons.map((r) => `<li data-reason="${esc(r)}">${esc(reasonText(r))}</li>`).join("")}</ul>` : ""}
    </section>
    ${facts.length ? `<section class="card" id="story"><h2>${esc(t(v.kind === "sscc" ? "story.titleBox" : v.kind === "lot" ? "story.titleLot" : "story.title"))}</h2><dl class="facts">
      ${facts.map(([k, val, html]) => `<dt>${esc(k)}</dt><dd>${html ? val : esc(val)}</dd>`).join("")}</dl></section>` : ""}
    <p class="muted mono">${esc(t("verify.code"))}: ${esc(v.object || "")}${v.asOf ? ` · ${esc(t("story.asOf", { h: v.asOf.height }))}` : ""}</p>`;
}

document.getElementById("again").addEventListener("click", check);
// "Use my location": only on the consumer's click, only what the browser allows; else ask.
document.getElementById("locate").addEventListener("click", async () => {
  const out = document.getElementById("locate-note");
  out.hidden = true;
  const select = document.getElementById("city");
  const name = await locateCity();
  if (!name) {
    out.textContent = t("city.locateNone");
    out.hidden = false;
    out.dataset.outcome = "none";
    select.focus();
    return;
  }
  if (![...select.options].some((o) => o.value === name)) select.add(new Option(name, name));
  select.value = name;
  out.dataset.outcome = name;
  select.dispatchEvent(new Event("change"));
  if (last) check();
});
document.addEventListener("xc:lang", () => { if (last) render(); });

document.getElementById("complaint").addEventListener("submit", async (e) => {
  e.preventDefault();
  const out = document.getElementById("complaint-result");
  const phone = document.getElementById("phone").value.trim();
  const text = document.getElementById("text").value.trim();
  try {
    const r = await api("/v1/complaints", { method: "POST", body: { code, phone, text, city: city() } });
    note(out, "ok", t("complain.ok", { txid: (r.txid || "").slice(0, 16) }));
    e.target.reset();
  } catch (err) {
    note(out, "err", t("complain.err", { msg: friendly(err) }));
  }
});

check();
