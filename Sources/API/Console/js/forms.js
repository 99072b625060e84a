// Transaction forms: a small declarative form builder, and the call that submits through the
// session API (POST /v1/console/tx; the node signs for the signed-in account).
import { api, esc, friendly, note } from "./common.js";
import { t } from "./i18n.js";

/** Field kinds: text, number, datetime (→ unix ms), list (comma separated strings),
 *  numlist (comma separated numbers), json, select:a,b,c. A field named with a trailing ? is optional. */
export function buildForm(spec, onSubmit) {
  const card = document.createElement("section");
  card.className = "card";
  card.dataset.method = spec.method;
  const id = (f) => `f-${spec.method}-${f}`;
  card.innerHTML = `<h2>${esc(t(`m.${spec.method}`))} <span class="muted mono">${esc(spec.method)}</span></h2>
    <form>${spec.fields.map(([rawName, kind = "text", value = ""]) => {
      const name = rawName.replace(/\?$/, "");
      const req = rawName.endsWith("?") ? "" : "required";
      let input;
      if (kind.startsWith("select:")) {
        input = `<select id="${id(name)}" name="${name}">${kind.slice(7).split(",").map((o) => `<option${o === value ? " selected" : ""}>${esc(o)}</option>`).join("")}</select>`;
      } else if (kind === "json") {
        input = `<textarea id="${id(name)}" name="${name}" class="mono" ${req}>${esc(value)}</textarea>`;
      } else {
        const type = kind === "number" ? "number\" step=\"any" : kind === "datetime" ? "datetime-local" : "text";
        input = `<input id="${id(name)}" name="${name}" type="${type}" value="${esc(value)}" ${req}>`;
      }
      return `<label for="${id(name)}">${esc(name)}</label>${input}`;
    }).join("")}
    <button class="primary" type="submit">${esc(spec.button ? t(spec.button) : t("ws.submit"))}</button></form>
    <div class="result" hidden></div>`;
  const form = card.querySelector("form");
  const out = card.querySelector(".result");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    let args;
    try {
      args = readArgs(form, spec.fields);
    } catch (err) {
      note(out, "err", `${err.message}`);
      return;
    }
    out.hidden = true;
    await onSubmit(args, out, card);
  });
  return card;
}

function readArgs(form, fields) {
  const args = {};
  for (const [rawName, kind = "text"] of fields) {
    const name = rawName.replace(/\?$/, "");
    const raw = form.elements[name].value.trim();
    if (raw === "") continue;
    if (kind === "number") args[name] = Number(raw);
    else if (kind === "datetime") args[name] = new Date(raw).getTime();
    else if (kind === "list") args[name] = raw.split(/[,，\s]+/).filter(Boolean);
    else if (kind === "numlist") args[name] = raw.split(/[,，\s]+/).filter(Boolean).map(Number);
    else if (kind === "json") {
      try { args[name] = JSON.parse(raw); } catch { throw new Error(`${name}: JSON`); }
    } else args[name] = raw;
  }
  return args;
}

/** Submits {contract, method, args}; shows committed / pending / refused-in-plain-words in `out`. */
export async function submitTx(method, args, out, contract = "crab") {
  try {
    const r = await api("/v1/console/tx", { method: "POST", auth: true, body: { contract, method, args } });
    if (r.status === "committed") {
      out.innerHTML = `<div class="note ok" data-status="committed">${esc(t("ws.committed", { h: r.height, txid: "" }))}<a class="mono" href="/explorer#/tx/${esc(r.txid)}">${esc(r.txid.slice(0, 16))}…</a></div>`;
    } else if (r.status === "failed") {
      note(out, "err", t("ws.refused", { what: t(`m.${method}`), why: friendly(r.error || {}) }));
      out.dataset.status = "failed";
      out.dataset.code = r.error?.code || "";
    } else {
      note(out, "info", t("ws.pending", { txid: r.txid }));
    }
    out.hidden = false;
    return r;
  } catch (err) {
    note(out, "err", t("ws.refused", { what: t(`m.${method}`), why: friendly(err) }));
    out.dataset.status = "error";
    out.dataset.code = err.code || "";
    return null;
  }
}
