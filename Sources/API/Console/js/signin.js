import { initPage, api, session, friendly, note } from "./common.js";
import { t } from "./i18n.js";

initPage("signin");
const orgSel = document.getElementById("org");
api("/v1/status").then((s) => {
  for (const o of s.orgs || []) orgSel.add(new Option(o, o));
  const want = new URLSearchParams(location.search).get("org");
  if (want) orgSel.value = want;
}).catch(() => {});

document.getElementById("signin").addEventListener("submit", async (e) => {
  e.preventDefault();
  const msg = document.getElementById("msg");
  const body = {
    org: orgSel.value, username: document.getElementById("username").value.trim(),
    password: document.getElementById("password").value,
  };
  try {
    const r = await api("/v1/console/signin", { method: "POST", body });
    session.save(r.account);
    note(msg, "ok", t("si.ok", { name: r.account.name || r.account.username, role: t(`role.${r.account.role}`) }));
    const next = new URLSearchParams(location.search).get("next");
    // Each role's own page: the regulator's desk, the township's 三资 review desk, the village's disclosure.
    const home = { regulator: "/desk", township: "/review", village: `/village?v=${encodeURIComponent(r.account.org)}` }[r.account.role] || "/workspace";
    location.href = next && next.startsWith("/") && !next.startsWith("//") ? next : home;
  } catch (err) {
    note(msg, "err", friendly(err));
    msg.dataset.code = err.code || "";
  }
});
