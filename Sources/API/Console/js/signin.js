// Member sign-in by company name: the org picker shows each org's registered member name (the org
// id only for an org that has none), sorted by name; the org id is what the session API takes.
import { initPage, api, session, friendly, note } from "./common.js";
import { t } from "./i18n.js";
import { directory, orgName } from "./orgs.js";

initPage("signin");
const orgSel = document.getElementById("org");

async function fillOrgs() {
  const dir = await directory();
  const want = new URLSearchParams(location.search).get("org");
  const rows = dir.orgs.map((o) => [o, orgName(dir, o)]).sort((a, b) => a[1].localeCompare(b[1], "zh-CN"));
  orgSel.replaceChildren(new Option(t("si.pick"), ""), ...rows.map(([o, name]) => new Option(name, o)));
  orgSel.options[0].disabled = true;
  orgSel.value = want && dir.orgs.includes(want) ? want : "";
}
fillOrgs();
document.addEventListener("xc:lang", fillOrgs);

document.getElementById("signin").addEventListener("submit", async (e) => {
  e.preventDefault();
  const msg = document.getElementById("msg");
  if (!orgSel.value) {
    note(msg, "err", t("si.pick"));
    return;
  }
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
