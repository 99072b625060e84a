// The explorer: status, latest blocks, block and transaction detail with the proof checked in the page.
// Hash routes: #/ (overview), #/block/{height}, #/tx/{txid}. Live: /v1/stream when the node has it, else polling every 2 s.
import { initPage, api, esc, fmtTime, short, friendly } from "./common.js";
import { t } from "./i18n.js";
import { verifyInto } from "./proofview.js";

initPage("explorer");
const view = document.getElementById("view");
let timer = null;
let live = "poll";

function route() {
  const [, kind, arg] = (location.hash || "#/").split("/");
  clearInterval(timer);
  timer = null;
  if (kind === "block" && arg) return showBlock(arg);
  if (kind === "tx" && arg) return showTx(arg);
  return overview();
}

function stat(k, v, id) { return `<div class="stat"><div class="k">${esc(t(k))}</div><div class="v"${id ? ` id="${id}"` : ""}>${esc(v)}</div></div>`; }

async function overview() {
  view.innerHTML = `<section id="status"></section><h2>${esc(t("ex.blocks"))} <span class="badge" id="live"></span></h2><div class="table-wrap card"><table id="blocks"></table></div>`;
  const refresh = async () => {
    try {
      const [s, b] = await Promise.all([api("/v1/status"), api("/v1/blocks")]);
      renderStatus(s);
      renderBlocks(b);
    } catch (e) {
      document.getElementById("status").innerHTML = `<div class="note err">${esc(friendly(e))}</div>`;
    }
    const badge = document.getElementById("live");
    if (badge) badge.textContent = t(live === "stream" ? "ex.live.stream" : "ex.live.poll");
  };
  await refresh();
  timer = setInterval(refresh, 2000);
}

function renderStatus(s) {
  const el = document.getElementById("status");
  if (!el) return;
  const c = s.consensus || null;
  const y = s.sync || null;
  const parts = [stat("ex.height", s.height, "height"), stat("ex.mode", s.mode, "mode")];
  if (c) {
    parts.push(stat("ex.round", c.round), stat("ex.leader", c.leader), stat("ex.peers", `${(c.peersConnected || []).length} / ${c.validators - 1}`),
      stat("ex.quorum", c.quorum), stat("ex.healthy", c.healthy ? t("ex.yes") : t("ex.no")));
  }
  if (y) parts.push(stat("ex.sync", `${y.healthy ? "✔" : "✘"} ${y.blocksSynced} · ${y.source || ""}`));
  el.innerHTML = `<div class="stats">${parts.join("")}</div>
    ${c && c.stalled ? `<div class="note err">${esc(t("ex.stalled"))}: ${esc(c.stalled)}</div>` : ""}
    ${y && y.lastError ? `<div class="note err">${esc(y.lastError)}</div>` : ""}
    <p class="muted mono">${esc(s.chainId)} · ${esc(s.nodeId)}</p>`;
}

function renderBlocks(b) {
  const el = document.getElementById("blocks");
  if (!el) return;
  const rows = [...(b.blocks || [])].reverse();
  el.innerHTML = `<thead><tr><th>${esc(t("ex.block"))}</th><th>${esc(t("ex.time"))}</th><th>${esc(t("ex.txs"))}</th><th>${esc(t("ex.proposer"))}</th><th>hash</th></tr></thead>
    <tbody>${rows.map((x) => `<tr><td><a href="#/block/${x.height}">${x.height}</a></td><td>${esc(fmtTime(x.header.timestamp))}</td>
      <td>${x.header.txCount}</td><td>${esc(x.header.proposer)}</td><td class="mono">${esc(short(x.hash, 12))}</td></tr>`).join("")}</tbody>`;
}

async function showBlock(h) {
  try {
    const b = await api(`/v1/blocks/${encodeURIComponent(h)}`);
    const hd = b.header;
    view.innerHTML = `<p><a href="#/">← ${esc(t("ex.back"))}</a></p><section class="card"><h2>${esc(t("ex.block"))} ${b.height}</h2>
      <dl class="facts"><dt>hash</dt><dd class="mono">${esc(b.hash)}</dd><dt>${esc(t("ex.time"))}</dt><dd>${esc(fmtTime(hd.timestamp))}</dd>
      <dt>${esc(t("ex.proposer"))}</dt><dd>${esc(hd.proposer)}</dd><dt>parent</dt><dd class="mono">${esc(hd.parentHash)}</dd>
      <dt>txRoot</dt><dd class="mono">${esc(hd.txRoot)}</dd><dt>stateHash</dt><dd class="mono">${esc(b.stateHash)}</dd>
      <dt>${esc(t("ex.signatures"))}</dt><dd>${esc((b.signatures || []).map((s) => s.validator).join(", "))}</dd></dl></section>
      <h2>${esc(t("ex.txs"))} (${b.txids.length})</h2><div class="card table-wrap"><table><tbody>
      ${b.txids.map((id, i) => `<tr><td>${i}</td><td class="mono"><a href="#/tx/${id}">${id}</a></td></tr>`).join("")}</tbody></table></div>`;
  } catch (e) {
    view.innerHTML = `<div class="note err">${esc(friendly(e))}</div>`;
  }
}

async function showTx(id) {
  try {
    const tx = await api(`/v1/txs/${encodeURIComponent(id)}`);
    const st = tx.status;
    view.innerHTML = `<p><a href="#/">← ${esc(t("ex.back"))}</a></p><section class="card" id="tx"><h2>${esc(t("ex.tx"))}</h2>
      <dl class="facts"><dt>txid</dt><dd class="mono">${esc(tx.txid)}</dd>
      <dt>status</dt><dd><span class="badge ${st === "committed" ? "ok" : st === "failed" ? "bad" : ""}" id="tx-status">${esc(t(`ex.status.${st}`))}</span></dd>
      ${tx.height ? `<dt>${esc(t("ex.block"))}</dt><dd><a href="#/block/${tx.height}">${tx.height}</a> #${tx.index}</dd>` : ""}
      ${tx.contract ? `<dt>${esc(t("ex.method"))}</dt><dd>${esc(tx.contract)}.${esc(tx.method)}</dd>` : ""}
      ${tx.signer ? `<dt>${esc(t("ex.signer"))}</dt><dd>${esc(tx.signer.subject)} (${esc(tx.signer.org)}, ${esc(tx.signer.role)})</dd>` : ""}
      ${tx.blockTime ? `<dt>${esc(t("ex.time"))}</dt><dd>${esc(fmtTime(tx.blockTime))}</dd>` : ""}
      ${tx.error ? `<dt>${esc(t("ex.error"))}</dt><dd class="fail">${esc(tx.error.code)}: ${esc(tx.error.message)}</dd>` : ""}</dl>
      ${tx.args ? `<details><summary>${esc(t("ex.args"))}</summary><pre class="mono">${esc(JSON.stringify(tx.args, null, 2).slice(0, 20000))}</pre></details>` : ""}
      ${tx.result !== undefined ? `<details id="tx-result"><summary>${esc(t("ex.result"))}</summary><pre class="mono">${esc(JSON.stringify(tx.result, null, 2).slice(0, 20000))}</pre></details>` : ""}
      </section>
      ${st === "pending" ? "" : `<section class="card"><h2>${esc(t("ex.proof"))}</h2><div id="proof-result"></div>
      <button class="secondary" type="button" id="reverify">${esc(t("ex.verify"))}</button></section>`}`;
    if (st === "pending") return;
    const proof = await api(`/v1/txs/${encodeURIComponent(id)}/proof`);
    const run = () => verifyInto(document.getElementById("proof-result"), proof);
    document.getElementById("reverify").addEventListener("click", run);
    await run();
  } catch (e) {
    view.innerHTML = `<p><a href="#/">← ${esc(t("ex.back"))}</a></p><div class="note err">${esc(friendly(e))}</div>`;
  }
}

document.getElementById("search").addEventListener("submit", (e) => {
  e.preventDefault();
  const q = document.getElementById("q").value.trim().toLowerCase();
  if (/^[0-9a-f]{64}$/.test(q)) location.hash = `#/tx/${q}`;
  else if (/^[0-9]+$/.test(q)) location.hash = `#/block/${q}`;
});

/**
 * Feature-detects the websocket stream: a node that serves /v1/stream says so in /v1/status
 * (`stream: true` or "stream" in `features`); probing blindly would log a 404 in the console.
 * Polling every 2 s stays the fallback.
 */
async function tryStream() {
  if (!("WebSocket" in window)) return;
  let s;
  try { s = await api("/v1/status"); } catch { return; }
  if (!(s.stream === true || (Array.isArray(s.features) && s.features.includes("stream")))) return;
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/stream`);
  ws.onopen = () => { live = "stream"; };
  ws.onmessage = () => { if ((location.hash || "#/") === "#/") route(); };
  ws.onclose = () => { live = "poll"; };
}

window.addEventListener("hashchange", route);
document.addEventListener("xc:lang", route);
route();
tryStream();
