// Orgs by name: a member org shows as its registered member name (GET /v1/crab/members); an org
// that is no crab member (the association's, the regulator's, a village's) as the role it holds
// under the chain's role policy with its id; the bare org id only when nothing else is known.
import { api } from "./common.js";
import { t } from "./i18n.js";

let loaded = null;
const ROLE_ORDER = ["association", "regulator", "township", "village", "farm", "merchant", "lab", "logistics"];

/** {members: [member records], orgs: [org ids], roles: Map org → [roles]} (cached per page). */
export function directory() {
  loaded ??= Promise.all([
    api("/v1/crab/members").then((r) => r.members || []).catch(() => []),
    api("/v1/status").then((s) => s.orgs || []).catch(() => []),
    api("/v1/governance/config").then((c) => (c.config || c).orgs || []).catch(() => []),
  ]).then(([members, orgs, config]) => ({
    members,
    orgs: orgs.length ? orgs : config.map((o) => o.name),
    roles: new Map(config.map((o) => [o.name, o.roles || []])),
    byOrg: new Map(members.map((m) => [m.org, m])),
  }));
  return loaded;
}

/** The name an org shows as, given the directory. */
export function orgName(dir, org) {
  if (!org) return "";
  const m = dir?.byOrg.get(org);
  if (m && m.name) return m.name;
  const roles = dir?.roles.get(org) || [];
  const role = ROLE_ORDER.find((r) => roles.includes(r));
  return role ? `${t(`role.${role}`)}（${org}）` : org;
}

/** [[org, name]] of the members holding `role`, for a picker. */
export function membersOf(dir, role) {
  return (dir?.members || []).filter((m) => m.role === role && !m.suspended).map((m) => [m.org, m.name || m.org]);
}
