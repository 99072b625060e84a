// The consortium's governance page: the configuration in force, open proposals with their effect
// in plain words and where their votes stand, an org admin's approve / reject (signed through the
// session API, POST /v1/console/tx to the governance contract), a few common proposals, and the
// history. Reads are public (GET /v1/governance/*): any member or visitor can see who decided what.
import { initPage, api, session, esc, fmtTime, friendly, note, short } from "./common.js";
import { t } from "./i18n.js";
import { submitTx } from "./forms.js";

initPage("governance");
const who = document.getElementById("who");
const openEl = document.getElementById("open");
const historyEl = document.getElementById("history");
const configEl = document.getElementById("config");
const warningsEl = document.getElementById("warnings");
const proposeEl = document.getElementById("propose");
const ROLES = ["association", "regulator", "farm", "merchant", "lab", "logistics", "consumer", "node"];

const roleList = (roles) => (roles || []).map((r) => t(`role.${r}`)).join("、") || t("gov.noroles");

/** One change in plain words, in the page's language; the node's English sentence for kinds this page does not know. */
export function describe(c, fallback) {
  switch (c.type) {
    case "add_org": return t("gc.add_org", { name: c.name, roles: roleList(c.roles) });
    case "remove_org": return t("gc.remove_org", { name: c.name });
    case "set_roles": return t("gc.set_roles", { org: c.org, roles: roleList(c.roles) });
    case "add_ca": return t("gc.add_ca", { org: c.org });
    case "remove_ca": return t("gc.remove_ca", { org: c.org, fp: short(c.fingerprint, 16) });
    case "add_validator": return t("gc.add_validator", { id: c.nodeId, org: c.org, addr: c.p2pAddress || "" });
    case "remove_validator": return t("gc.remove_validator", { id: c.nodeId });
    case "update_validator": {
      const parts = [];
      if (c.certificate) parts.push(t("gc.newcert"));
      if (c.p2pAddress) parts.push(t("gc.newaddr", { addr: c.p2pAddress }));
      return t("gc.update_validator", { id: c.nodeId, what: parts.join("，") });
    }
    case "set_parameters": {
      const parts = Object.entries(c).filter(([k]) => k !== "type").map(([k, v]) => t("gc.param", { k: t(`param.${k}`), v: Array.isArray(v) ? v.join(", ") : v }));
      return t("gc.set_parameters", { what: parts.join("；") });
    }
    case "set_approval_policy":
      return t("gc.set_approval_policy", { on: c.ordinaryNumerator, od: c.ordinaryDenominator, cn: c.criticalNumerator, cd: c.criticalDenominator, h: Math.round((c.proposalLifetimeMs || 0) / 3600000) });
    case "revoke": return t("gc.revoke", { n: (c.fingerprints || []).length, fps: (c.fingerprints || []).map((f) => short(f, 12)).join(", ") });
    default: return fallback || c.type;
  }
}

function statusBadge(s) {
  const cls = s === "applied" ? "ok" : s === "open" ? "" : "bad";
  return `<span class="badge ${cls}" data-status="${esc(s)}">${esc(t(`gs.${s}`))}</span>`;
}

/** A proposal as a card; `vote` adds approve / reject buttons. */
function card(p, vote) {
  const tally = p.tally || {};
  const changes = (p.changes || []).map((c, i) => `<li>${esc(describe(c, (p.summary || [])[i]))}</li>`).join("");
  const voters = (list) => (list || []).map((v) => esc(v.org)).join("、") || "—";
  const pct = tally.needed ? Math.min(100, Math.round((100 * (tally.approvals || 0)) / tally.needed)) : 0;
  const buttons = vote
    ? `<p class="row"><button class="primary" type="button" data-vote="approve">${esc(t("gov.approve"))}</button>
       <button class="secondary" type="button" data-vote="reject">${esc(t("gov.reject"))}</button></p><div class="out" hidden></div>`
    : "";
  return `<article class="proposal card" data-id="${esc(p.id)}" data-status="${esc(p.status)}">
    <h3>${esc(p.id)} ${statusBadge(p.status)} ${p.critical ? `<span class="badge bad">${esc(t("gov.critical"))}</span>` : ""}</h3>
    <p>${esc(p.description || "")}</p>
    <ul class="changes">${changes}</ul>
    <p class="muted">${esc(t("gov.by", { org: p.proposer?.org || "", subject: p.proposer?.subject || "", at: fmtTime(p.createdAt) }))}
      · ${esc(p.status === "open" ? t("gov.expires", { at: fmtTime(p.expiresAt) }) : p.outcome || "")}</p>
    <p class="tally" data-approvals="${tally.approvals ?? 0}" data-needed="${tally.needed ?? 0}">${esc(t("gov.tally", { a: tally.approvals ?? 0, k: tally.needed ?? 0, n: tally.orgs ?? 0, r: tally.rejections ?? 0 }))}
      <span class="bar"><span style="width:${pct}%"></span></span></p>
    <p class="muted">${esc(t("gov.approvedBy"))} ${voters(p.approvals)} · ${esc(t("gov.rejectedBy"))} ${voters(p.rejections)}</p>
    ${buttons}</article>`;
}

function isAdmin() { return !!(session.signedIn && session.account.role === "admin"); }

async function load() {
  let config, proposals, status;
  try {
    [config, proposals, status] = await Promise.all([
      api("/v1/governance/config"), api("/v1/governance/proposals?limit=200"), api("/v1/status"),
    ]);
  } catch (err) {
    openEl.innerHTML = `<div class="note err">${esc(friendly(err))}</div>`;
    return;
  }
  const mine = session.account?.org;
  const warnings = status.warnings || config.warnings || [];
  warningsEl.innerHTML = warnings.map((w) => `<div class="note err warning">⚠ ${esc(w)}</div>`).join("");
  const all = proposals.proposals || [];
  const open = all.filter((p) => p.status === "open");
  openEl.innerHTML = open.length
    ? open.map((p) => card(p, isAdmin() && ![...(p.approvals || []), ...(p.rejections || [])].some((v) => v.org === mine))).join("")
    : `<p class="muted" id="no-open">${esc(t("gov.none"))}</p>`;
  for (const el of openEl.querySelectorAll("article.proposal")) {
    for (const b of el.querySelectorAll("button[data-vote]")) {
      b.addEventListener("click", async () => {
        const out = el.querySelector(".out");
        for (const x of el.querySelectorAll("button[data-vote]")) x.disabled = true;
        const r = await submitTx(b.dataset.vote, { proposal: el.dataset.id }, out, "governance");
        if (r && r.status === "committed") setTimeout(load, 300);
        else for (const x of el.querySelectorAll("button[data-vote]")) x.disabled = false;
      });
    }
  }
  const closed = all.filter((p) => p.status !== "open");
  historyEl.innerHTML = closed.length ? closed.map((p) => card(p, false)).join("") : `<p class="muted">${esc(t("gov.nohistory"))}</p>`;
  renderConfig(config.config || config);
}

function renderConfig(c) {
  const orgs = (c.orgs || []).map((o) => `<tr data-org="${esc(o.name)}"><td>${esc(o.name)}</td><td>${esc(o.roles ? roleList(o.roles) : t("gov.anyrole"))}</td><td>${(o.roots || []).length}</td></tr>`).join("");
  const vals = (c.validators || []).map((v) => `<tr><td class="mono">${esc(v.nodeId)}</td><td>${esc(v.org)}</td><td class="mono">${esc(v.p2pAddress || "")}</td></tr>`).join("");
  const a = c.approval || {};
  configEl.innerHTML = `<p class="muted">${esc(t("gov.version", { v: c.version ?? 0, e: c.epoch ?? 0 }))}</p>
    <p>${esc(t("gov.policy", { on: a.ordinaryNumerator, od: a.ordinaryDenominator, cn: a.criticalNumerator, cd: a.criticalDenominator }))}</p>
    <div class="table-wrap"><table id="orgs"><thead><tr><th>${esc(t("gov.org"))}</th><th>${esc(t("gov.roles"))}</th><th>CA</th></tr></thead><tbody>${orgs}</tbody></table></div>
    <div class="table-wrap"><table id="validators"><thead><tr><th>${esc(t("gov.node"))}</th><th>${esc(t("gov.org"))}</th><th>${esc(t("gov.address"))}</th></tr></thead><tbody>${vals}</tbody></table></div>
    <p class="muted">${esc(t("gov.revoked", { n: (c.revoked || []).length }))}</p>`;
  fillProposeForm(c);
}

/** Common proposals an org admin makes from the console; everything else through `xiangchain gov propose`. */
function fillProposeForm(c) {
  if (!isAdmin()) return;
  document.getElementById("propose-section").hidden = false;
  if (proposeEl.dataset.ready) return;
  proposeEl.dataset.ready = "1";
  const orgOptions = (c.orgs || []).map((o) => `<option value="${esc(o.name)}">${esc(o.name)}</option>`).join("");
  proposeEl.innerHTML = `<form id="propose-form" class="form">
    <label>${esc(t("gov.kind"))} <select name="kind">
      <option value="set_roles">${esc(t("gk.set_roles"))}</option>
      <option value="remove_org">${esc(t("gk.remove_org"))}</option>
      <option value="revoke">${esc(t("gk.revoke"))}</option></select></label>
    <label>${esc(t("gov.org"))} <select name="org">${orgOptions}</select></label>
    <fieldset class="roles"><legend>${esc(t("gov.roles"))}</legend>${ROLES.map((r) => `<label class="inline"><input type="checkbox" name="role" value="${r}"> ${esc(t(`role.${r}`))}</label>`).join(" ")}</fieldset>
    <label>${esc(t("gov.fingerprints"))} <textarea name="fingerprints" rows="2" placeholder="sha256 hex, …"></textarea></label>
    <label>${esc(t("gov.description"))} <input name="description" required maxlength="500"></label>
    <p><button class="primary" type="submit">${esc(t("gov.submit"))}</button></p><div class="out" hidden></div></form>`;
  const form = document.getElementById("propose-form");
  // Only the fields the chosen change needs.
  const shape = () => {
    const kind = form.elements.kind.value;
    form.elements.org.closest("label").hidden = kind === "revoke";
    form.querySelector("fieldset.roles").hidden = kind !== "set_roles";
    form.elements.fingerprints.closest("label").hidden = kind !== "revoke";
  };
  form.elements.kind.addEventListener("change", shape);
  shape();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const kind = f.get("kind");
    const out = form.querySelector(".out");
    let change;
    if (kind === "set_roles") change = { type: "set_roles", org: f.get("org"), roles: f.getAll("role") };
    else if (kind === "remove_org") change = { type: "remove_org", name: f.get("org") };
    else {
      const fps = String(f.get("fingerprints") || "").split(/[\s,]+/).filter(Boolean);
      if (!fps.length) { note(out, "err", t("gov.needfp")); return; }
      change = { type: "revoke", fingerprints: fps };
    }
    const r = await submitTx("propose", { changes: [change], description: String(f.get("description") || "") }, out, "governance");
    if (r && r.status === "committed") setTimeout(load, 300);
  });
}

async function main() {
  if (session.signedIn) {
    const a = session.account;
    who.innerHTML = `<p class="muted" id="account">${esc(a.name || a.username)} · ${esc(a.org)} · ${esc(t(`role.${a.role}`))}${isAdmin() ? "" : ` · ${esc(t("gov.readonly"))}`}</p>`;
  } else {
    who.innerHTML = `<div class="note info">${esc(t("gov.signin"))} <a href="/signin?next=/governance">${esc(t("nav.signin"))}</a></div>`;
  }
  await load();
}

document.addEventListener("xc:lang", load);
main();
