import Accounts
import ChainCore
import Foundation
import Identity
import Node
import NodeRuntime

/// Console accounts for the demo cast, so a newcomer can sign in to the web console at once.
///
/// Each account lives on the node of its org; member orgs without a node of their own are hosted
/// by node 0 (the association's one-stop platform: its config lists their CAs in
/// `hostedAccountCAs`). All demo accounts share one password, printed by `devnet --demo`.
public enum DemoAccounts {
    static let password = "demo-password-2026"
    static let file = "console-accounts.json"

    /// Creates the accounts offline (before the nodes start) and writes `D/console-accounts.json`.
    public static func create(layout: NetworkLayout) throws {
        let genesis = try Genesis.load(from: layout.genesisURL)
        let cast = try DemoCast.plan(orgs: genesis.orgs.map(\.name))
        let nodeOfOrg = Dictionary(
            genesis.validators.enumerated().map { ($0.element.org, $0.offset) }, uniquingKeysWith: { a, _ in a })
        let roles: Set<Role> = [.association, .regulator, .farm, .merchant, .lab, .logistics, .village, .township]
        // Node 0 hosts the member orgs that run no node.
        let node0 = layout.nodeHome(0).appendingPathComponent("config.json")
        var config0 = try NodeConfig.load(from: node0)
        for org in Set(cast.actors.filter { roles.contains($0.role) && nodeOfOrg[$0.org] == nil }.map(\.org)).sorted() {
            let dir = layout.consoleCADir(org).absoluteURL.standardizedFileURL.path
            if !config0.hostedAccountCAs.contains(dir) { config0.hostedAccountCAs.append(dir) }
        }
        try config0.write(to: node0)
        // Observers of the home org are nodes of the hosting org too: they host the same member
        // orgs (the accounts reach them through the chain, sealed under the org's hosting key).
        for home in layout.observerHomes {
            let url = home.appendingPathComponent("config.json")
            var config = try NodeConfig.load(from: url)
            guard config.accountCA == config0.accountCA else { continue }
            config.hostedAccountCAs = config0.hostedAccountCAs
            try config.write(to: url)
        }
        var rows: [JSONValue] = []
        for (i, actor) in cast.actors.enumerated() where roles.contains(actor.role) {
            let k = nodeOfOrg[actor.org] ?? 0
            let home = layout.nodeHome(k)
            let config = try NodeConfig.load(from: home.appendingPathComponent("config.json"))
            let new = NewAccount(
                username: actor.key, name: actor.name, idNumber: String(format: "32050019800101%04d", i),
                phone: String(format: "1391234%04d", i), role: actor.role, password: password)
            _ = try HomeAccounts.create(home: home, org: actor.org, new)
            rows.append(
                .object([
                    "org": .string(actor.org), "username": .string(actor.key), "role": .string(actor.role.rawValue),
                    "name": .string(actor.name), "console": .string("http://\(config.apiHost):\(config.apiPort)/"),
                ]))
        }
        // An admin account for each org that runs a node: governance (proposals and votes) from
        // the console's governance page.
        for (k, v) in genesis.validators.enumerated() where nodeOfOrg[v.org] == k {
            let home = layout.nodeHome(k)
            let config = try NodeConfig.load(from: home.appendingPathComponent("config.json"))
            let new = NewAccount(
                username: "admin-\(v.org)", name: "\(v.org) 管理员", idNumber: String(format: "32050019700101%04d", k),
                phone: String(format: "1381234%04d", k), role: .admin, password: password)
            _ = try HomeAccounts.create(home: home, org: v.org, new)
            rows.append(
                .object([
                    "org": .string(v.org), "username": .string("admin-\(v.org)"), "role": .string("admin"),
                    "name": .string("\(v.org) 管理员"), "console": .string("http://\(config.apiHost):\(config.apiPort)/"),
                ]))
        }
        let doc: JSONValue = .object(["password": .string(password), "accounts": .array(rows)])
        try Data(doc.canonicalBytes).write(to: layout.root.appendingPathComponent(file))
    }

    /// The sign-in lines to print, from `D/console-accounts.json` (nil when there is none).
    public static func summary(layout: NetworkLayout) -> [String]? {
        guard let data = try? Data(contentsOf: layout.root.appendingPathComponent(file)),
            let doc = try? JSONParser().parse(Array(data)), let rows = doc["accounts"]?.arrayValue
        else { return nil }
        var lines = ["Web console sign-in (password \(doc["password"]?.stringValue ?? "")):"]
        for r in rows {
            let org = r["org"]?.stringValue ?? ""
            let user = r["username"]?.stringValue ?? ""
            let role = r["role"]?.stringValue ?? ""
            lines.append("  \(r["console"]?.stringValue ?? "")  org \(org)  user \(user)  (\(role))")
        }
        return lines
    }
}
