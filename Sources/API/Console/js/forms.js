// Transaction forms: a small declarative form builder, and the call that submits through the
// session API (POST /v1/console/tx; the node signs for the signed-in account). Every label is the
// dictionary's `f.<field>`, every option `o.<field>.<value>` (or `o.<value>`): no field name
// shows in English in the Chinese UI.
import { api, esc, friendly, note } from "./common.js";
import { t, has } from "./i18n.js";

/** Most serials one list may name (the contract's bound per transaction). */
const MAX_SERIALS = 500;

/** Field kinds:
 *  text, number, datetime (→ unix ms), list (comma separated strings), numlist (comma separated
 *  numbers), json, select:a,b,c (fixed options), pick (options given as [[value, label]] in the
 *  field's 4th element, e.g. members by name), choose (a text box with suggestions, same 4th
 *  element), serials (ranges, lists or scanned codes → [serial]), rings (lines "serials sex grams"
 *  → [{serial, sex, weightG}]), sscc (17 digits get their check digit; a scanned box sticker
 *  works), gcn (a scanned coupon code works), kv (lines "name=value" → object), sha256 (64 hex,
 *  or a file hashed in the browser).
 *  A field named with a trailing ? is optional. Each field: [name, kind, default, options]. */
export function buildForm(spec, onSubmit) {
  const card = document.createElement("section");
  card.className = "card";
  card.dataset.method = spec.method;
  const id = (f) => `f-${spec.method}-${f}`;
  card.innerHTML = `<h2 title="${esc(spec.method)}">${esc(t(spec.title || `m.${spec.method}`))}</h2>
    ${spec.hint ? `<p class="muted hint">${esc(t(spec.hint))}</p>` : ""}
    <form>${spec.fields.map(([rawName, kind = "text", value = "", options = []]) => {
      const name = rawName.replace(/\?$/, "");
      const req = rawName.endsWith("?") ? "" : "required";
      let input;
      if (kind.startsWith("select:")) {
        input = `<select id="${id(name)}" name="${name}">${kind.slice(7).split(",").map((o) => `<option value="${esc(o)}"${o === value ? " selected" : ""}>${esc(optionLabel(name, o))}</option>`).join("")}</select>`;
      } else if (kind === "pick") {
        const blank = req ? "" : `<option value="">${esc(t("ws.none"))}</option>`;
        input = `<select id="${id(name)}" name="${name}" ${req}>${blank}${options.map(([v, l]) => `<option value="${esc(v)}"${v === value ? " selected" : ""}>${esc(l)}</option>`).join("")}</select>`;
      } else if (kind === "choose") {
        input = `<input id="${id(name)}" name="${name}" list="${id(name)}-list" value="${esc(value)}" ${req}><datalist id="${id(name)}-list">${options.map(([v, l]) => `<option value="${esc(v)}">${esc(l)}</option>`).join("")}</datalist>`;
      } else if (kind === "json" || kind === "serials" || kind === "rings" || kind === "kv") {
        const ph = has(`ph.${kind}`) ? ` placeholder="${esc(t(`ph.${kind}`))}"` : "";
        input = `<textarea id="${id(name)}" name="${name}" class="mono" ${req}${ph}>${esc(value)}</textarea>`;
        if (kind === "serials" || kind === "rings") {
          input += `<input id="${id(name)}-scan" class="scan" data-for="${name}" autocomplete="off" placeholder="${esc(t("ws.scanHere"))}">`;
        }
      } else if (kind === "sha256") {
        input = `<input id="${id(name)}" name="${name}" class="mono" pattern="[0-9a-fA-F]{64}" value="${esc(value)}" ${req}>
          <input id="${id(name)}-file" type="file" class="hashfile" data-for="${name}" aria-label="${esc(t("ws.hashFile"))}">`;
      } else {
        const type = kind === "number" ? "number\" step=\"any" : kind === "datetime" ? "datetime-local" : "text";
        const ph = has(`ph.${kind}`) ? ` placeholder="${esc(t(`ph.${kind}`))}"` : "";
        input = `<input id="${id(name)}" name="${name}" type="${type}" value="${esc(value)}"${ph} ${req}>`;
      }
      return `<label for="${id(name)}" data-field="${name}">${esc(t(`f.${name}`))}</label>${input}`;
    }).join("")}
    <button class="primary" type="submit">${esc(spec.button ? t(spec.button) : t("ws.submit"))}</button></form>
    <div class="result" data-out hidden></div>`;
  const form = card.querySelector("form");
  // The outcome's box (its class changes with the note it shows; data-out stays).
  const out = card.querySelector("[data-out]");
  // A scanner types the code and Enter: the code's serial joins the list, one a line.
  for (const scan of card.querySelectorAll("input.scan")) {
    scan.addEventListener("keydown", (e) => {
      if (e.key !== "Enter") return;
      e.preventDefault();
      const code = parseCode(scan.value);
      const serial = code.serial || scan.value.trim();
      if (!serial) return;
      const box = form.elements[scan.dataset.for];
      box.value = `${box.value.replace(/\s+$/, "")}${box.value.trim() ? "\n" : ""}${serial}`;
      scan.value = "";
    });
  }
  // A report file is hashed here; only its SHA-256 goes on chain.
  for (const f of card.querySelectorAll("input.hashfile")) {
    f.addEventListener("change", async () => {
      const file = f.files && f.files[0];
      if (!file) return;
      const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
      form.elements[f.dataset.for].value = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
    });
  }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    let args;
    try {
      args = readArgs(form, spec.fields);
    } catch (err) {
      note(out, "err", `${err.message}`);
      out.dataset.status = "invalid";
      return;
    }
    out.hidden = true;
    await onSubmit(args, out, card);
  });
  return card;
}

function optionLabel(field, value) {
  if (has(`o.${field}.${value}`)) return t(`o.${field}.${value}`);
  if (has(`o.${value}`)) return t(`o.${value}`);
  return value;
}

/** The parts of a scanned or typed GS1 code (Digital Link URI or element string). */
export function parseCode(text) {
  const s = String(text || "").trim().replace(/[#?].*$/, "");
  const out = {};
  const uri = s.match(/\/(01|00|255)\/([^/?#]+)(?:\/(21|10)\/([^/?#]+))?/);
  if (uri) {
    const [, ai, v, ai2, v2] = uri;
    if (ai === "00") out.sscc = v;
    if (ai === "255") out.gcn = v;
    if (ai === "01") out.gtin = v;
    if (ai2 === "21") out.serial = decodeURIComponent(v2);
    if (ai2 === "10") out.lot = decodeURIComponent(v2);
    return out;
  }
  const el = s.match(/^\((00|01|255)\)([0-9]+)(?:\((21|10)\)(.+))?$/);
  if (el) {
    const [, ai, v, ai2, v2] = el;
    if (ai === "00") out.sscc = v;
    if (ai === "255") out.gcn = v;
    if (ai === "01") out.gtin = v;
    if (ai2 === "21") out.serial = v2;
    if (ai2 === "10") out.lot = v2;
  }
  return out;
}

/** `body` with its GS1 mod-10 check digit. */
export function withCheckDigit(body) {
  let sum = 0;
  [...body].reverse().forEach((c, i) => { sum += Number(c) * (i % 2 === 0 ? 3 : 1); });
  return body + String((10 - (sum % 10)) % 10);
}

/** Serials from ranges ("YC2600001-YC2600008", "YC2600001-08", "～" too), lists and scanned codes. */
export function parseSerials(text, label = "") {
  const out = [];
  for (const raw of String(text || "").split(/[,，;；\s]+/).filter(Boolean)) {
    const code = parseCode(raw);
    if (code.serial) { out.push(code.serial); continue; }
    const m = raw.match(/^(.*?)(\d+)\s*[-~～—–]\s*(.*?)(\d+)$/);
    if (m && (m[3] === "" || m[3] === m[1])) {
      const [, prefix, a, , b] = m;
      const width = a.length;
      const end = b.length < width ? a.slice(0, width - b.length) + b : b;
      const from = Number(a), to = Number(end);
      if (!(to >= from)) throw new Error(t("ws.badRange", { what: label, range: raw }));
      if (to - from + 1 + out.length > MAX_SERIALS) throw new Error(t("ws.tooMany", { what: label, n: MAX_SERIALS }));
      for (let n = from; n <= to; n++) out.push(prefix + String(n).padStart(width, "0"));
      continue;
    }
    out.push(raw);
  }
  if (out.length > MAX_SERIALS) throw new Error(t("ws.tooMany", { what: label, n: MAX_SERIALS }));
  if (new Set(out).size !== out.length) throw new Error(t("ws.duplicate", { what: label }));
  return out;
}

const SEX = { 公: "male", 雄: "male", m: "male", male: "male", 母: "female", 雌: "female", f: "female", female: "female" };

/** Lines "serials sex grams" ("YC2600001-YC2600004 公 250") → [{serial, sex, weightG}]. */
export function parseRings(text, label = "") {
  const rings = [];
  for (const line of String(text || "").split(/\n+/).map((l) => l.trim()).filter(Boolean)) {
    const parts = line.split(/[\s,，]+/);
    const weight = Number(String(parts.pop()).replace(/(克|g)$/i, ""));
    const sex = SEX[String(parts.pop() || "").toLowerCase()];
    if (!sex || !Number.isInteger(weight) || weight <= 0 || parts.length === 0) {
      throw new Error(t("ws.badRingLine", { what: label, line }));
    }
    for (const serial of parseSerials(parts.join(" "), label)) rings.push({ serial, sex, weightG: weight });
  }
  if (rings.length > MAX_SERIALS) throw new Error(t("ws.tooMany", { what: label, n: MAX_SERIALS }));
  return rings;
}

function readArgs(form, fields) {
  const args = {};
  for (const [rawName, kind = "text"] of fields) {
    const name = rawName.replace(/\?$/, "");
    const label = t(`f.${name}`);
    const raw = form.elements[name].value.trim();
    if (raw === "") continue;
    if (kind === "number") args[name] = Number(raw);
    else if (kind === "datetime") args[name] = new Date(raw).getTime();
    else if (kind === "list") args[name] = raw.split(/[,，、\s]+/).filter(Boolean);
    else if (kind === "numlist") args[name] = raw.split(/[,，\s]+/).filter(Boolean).map(Number);
    else if (kind === "serials") args[name] = parseSerials(raw, label);
    else if (kind === "rings") args[name] = parseRings(raw, label);
    else if (kind === "sscc") {
      const v = parseCode(raw).sscc || raw.replace(/\s+/g, "");
      if (!/^\d{17,18}$/.test(v)) throw new Error(t("ws.badSSCC"));
      args[name] = v.length === 17 ? withCheckDigit(v) : v;
    } else if (kind === "gcn") args[name] = parseCode(raw).gcn || raw.replace(/\s+/g, "");
    else if (kind === "kv") {
      const o = {};
      for (const line of raw.split(/\n+/).map((l) => l.trim()).filter(Boolean)) {
        const m = line.match(/^([^=:：]+)[=:：]\s*(.*)$/);
        if (!m) throw new Error(t("ws.badKV", { what: label, line }));
        const v = m[2].trim();
        o[m[1].trim()] = v !== "" && !Number.isNaN(Number(v)) ? Number(v) : v;
      }
      args[name] = o;
    } else if (kind === "json") {
      try { args[name] = JSON.parse(raw); } catch { throw new Error(`${label}: JSON`); }
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
      out.dataset.status = "committed";
    } else if (r.status === "failed") {
      note(out, "err", t("ws.refused", { what: t(`m.${method}`), why: friendly(r.error || {}) }));
      out.dataset.status = "failed";
      out.dataset.code = r.error?.code || "";
    } else {
      note(out, "info", t("ws.pending", { txid: r.txid }));
      out.dataset.status = "pending";
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
