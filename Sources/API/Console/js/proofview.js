// Renders verifyProof's result in plain words (used by the explorer and the regulator desk).
import { t } from "./i18n.js";
import { esc } from "./common.js";
import { verifyProof, genesis } from "./proof.js";

export function describe(r) {
  const lines = [];
  lines.push(r.inclusion.ok
    ? `<div class="note ok proof-inclusion" data-ok="true">✔ ${esc(t("ex.inclusion.ok", { h: r.inclusion.height }))}</div>`
    : `<div class="note err proof-inclusion" data-ok="false">✘ ${esc(t("ex.inclusion.bad", { why: r.inclusion.why || "" }))}</div>`);
  const s = r.signatures;
  if (r.inclusion.ok) {
    if (s.why === "epochs") {
      lines.push(`<div class="note err proof-sigs proof-epochs" data-ok="false">✘ ${esc(t("ex.epochs.bad", { why: s.detail || "" }))}</div>`);
    } else if (s.checked) {
      if (s.epochs) lines.push(`<div class="note ok proof-epochs" data-ok="true">✔ ${esc(t("ex.epochs.ok", { n: s.epochs }))}</div>`);
      const ok = s.valid.length >= s.quorum;
      lines.push(`<div class="note ${ok ? "ok" : "err"} proof-sigs" data-valid="${s.valid.length}" data-quorum="${s.quorum}">${ok ? "✔" : "✘"} ${esc(t("ex.sigs", { n: s.valid.length, q: s.quorum }))} (${esc(s.valid.join(", "))})</div>`);
    } else if (s.why === "unsupported") {
      lines.push(`<div class="note info proof-sigs">${esc(t("ex.sigs.unsupported"))}</div>`);
    } else if (s.why === "suite") {
      lines.push(`<div class="note info proof-sigs">${esc(t("ex.sigs.suite", { suite: s.suite }))}</div>`);
    }
  }
  return lines.join("");
}

/** Verifies `proof` against the node's genesis and writes the outcome into `el`. */
export async function verifyInto(el, proof) {
  el.innerHTML = `<p class="muted">${esc(t("ex.verifying"))}</p>`;
  const r = await verifyProof(proof, await genesis());
  el.innerHTML = describe(r);
  return r;
}
