import ArgumentParser
import ChainCore
import Foundation
import Identity
import Node

/// `xiangchain org`: one organisation's side of a consortium (`docs/deploy.md`).
struct OrgCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "org", abstract: "An organisation's key ceremony and its nodes.",
        subcommands: [OrgInitCommand.self, OrgInstallCommand.self])
}

struct OrgInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an org's CA, console CA, admin identity and node keys in DIR, and its public card DIR/card.json.",
        discussion: """
            Private keys never leave DIR. Send card.json to whoever assembles the genesis \
            (`xiangchain genesis build`), or propose it to a running chain (`xiangchain gov propose --add-org`).

            --node ID,P2P,API[,observer][,listen=HOST][,hosts=H1+H2]: P2P is the host:port peers reach \
            (the node listens on 0.0.0.0 at that port unless listen= says otherwise), API the URL its API \
            is reached at (it listens on 0.0.0.0 at that URL's port). The certificate names the P2P and API \
            hosts and any hosts= (DNS names or IP addresses).
            """)

    @Option(help: "Organisation name (the O of its certificates).") var org: String
    @Option(help: "Directory to create (keys, node homes, card).") var dir: String
    @Option(help: "Roles the org asks to hold, comma separated (node is added for orgs with nodes).") var roles: String
    @Option(help: "A node the org runs (see below); repeat for more.") var node: [String] = []
    @Option(help: "Crypto suite: ed25519, p256 or sm2 (SM2/SM3, GB/T 32918 and 32905).") var suite: CryptoSuite = .ed25519

    func run() throws {
        let root = URL(fileURLWithPath: dir)
        let roleList = try roles.split(separator: ",").map { r in
            guard let role = Role(rawValue: String(r).trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("unknown role \(r)")
            }
            return role
        }
        let plans = try node.map(Self.plan)
        let card = try OrgKit.create(
            org: org, suite: suite, roles: roleList + (plans.isEmpty ? [] : [.node]), nodes: plans,
            paths: .standalone(root))
        try card.write(to: root.appendingPathComponent("card.json"))
        print("created org \(org) in \(dir)")
        print("  root CA      \(root.appendingPathComponent("ca").path)  (keep its key offline once the nodes run)")
        print("  console CA   \(root.appendingPathComponent("console-ca").path)")
        print("  admin        \(root.appendingPathComponent("admin").path)")
        for n in card.nodes {
            print("  node \(n.nodeId) (\(n.validator ? "validator" : "observer")): p2p \(n.p2pAddress), API \(n.apiURL)")
        }
        print("  card         \(root.appendingPathComponent("card.json").path)  (public: send it to the other orgs)")
    }

    /// Parses `ID,P2P_HOST:PORT,API_URL[,observer][,listen=HOST][,hosts=A+B]`.
    static func plan(_ spec: String) throws -> OrgKit.NodePlan {
        let parts = spec.split(separator: ",").map(String.init)
        guard parts.count >= 3 else { throw ValidationError("--node takes ID,P2P_HOST:PORT,API_URL[,observer][,listen=HOST]") }
        let id = parts[0]
        let p2p = parts[1]
        guard let colon = p2p.lastIndex(of: ":"), let p2pPort = Int(p2p[p2p.index(after: colon)...]),
            (1...65535).contains(p2pPort)
        else { throw ValidationError("--node \(id): \(p2p) is not host:port") }
        let p2pHost = String(p2p[..<colon])
        guard let api = URL(string: parts[2]), let apiHost = api.host, let scheme = api.scheme,
            ["http", "https"].contains(scheme)
        else { throw ValidationError("--node \(id): \(parts[2]) is not an http(s) URL") }
        let apiPort = api.port ?? (scheme == "https" ? 443 : 80)
        var validator = true
        var listen = "0.0.0.0"
        var hosts = [p2pHost, apiHost]
        for extra in parts.dropFirst(3) {
            if extra == "observer" {
                validator = false
            } else if extra.hasPrefix("listen=") {
                listen = String(extra.dropFirst(7))
            } else if extra.hasPrefix("hosts=") {
                hosts += extra.dropFirst(6).split(separator: "+").map(String.init)
            } else {
                throw ValidationError("--node \(id): unknown part \(extra)")
            }
        }
        var seen = Set<String>()
        return OrgKit.NodePlan(
            nodeId: id, p2pListenHost: listen, p2pPort: p2pPort, p2pAdvertise: p2p, apiListenHost: listen, apiPort: apiPort,
            apiURL: parts[2], hosts: hosts.filter { seen.insert($0).inserted }, validator: validator)
    }
}

struct OrgInstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install the agreed genesis into every node home of an org directory (after comparing its hash).",
        discussion: """
            Checks that the genesis lists this org with this org's CA and, for each of the org's \
            validators, this node's certificate. Observers get the validators' API URLs (from the \
            orgs' cards) as their sync sources.
            """)

    @Option(help: "Org directory made by `org init`.") var dir: String
    @Option(help: "The genesis file the orgs agreed on.") var genesis: String
    @Option(help: "Expected genesis hash (from `genesis show`), checked before installing.") var hash: String?

    func run() throws {
        let root = URL(fileURLWithPath: dir)
        let g = try Genesis.load(from: URL(fileURLWithPath: genesis))
        let h = try g.hash.hex
        if let hash, hash.lowercased() != h { throw ValidationError("the genesis hash is \(h), not \(hash)") }
        let card = try OrgCard.load(from: root.appendingPathComponent("card.json"))
        if let org = g.orgs.first(where: { $0.name == card.org }) {
            guard org.caCertificate == card.caCertificate else {
                throw ValidationError("the genesis lists org \(card.org) with another CA than this directory's")
            }
        } else {
            // Not a founding org: it joins a running chain by governance (`gov propose --add-org`);
            // its nodes follow the chain by block sync until the chain makes them validators.
            print(
                "org \(card.org) is not in this genesis: it joins by a governance proposal of its card; its nodes sync meanwhile")
        }
        let validatorAPIs = g.orgs.compactMap(\.apiURL)
        for n in card.nodes {
            let home = root.appendingPathComponent("nodes/\(n.nodeId)")
            if let v = g.validators.first(where: { $0.nodeId == n.nodeId }) {
                guard v.certificate == n.certificate, v.org == card.org else {
                    throw ValidationError("the genesis lists validator \(n.nodeId) with another certificate or org")
                }
            } else {
                var config = try NodeConfig.load(from: home.appendingPathComponent("config.json"))
                config.syncFrom = validatorAPIs.filter { $0 != n.apiURL }
                try config.write(to: home.appendingPathComponent("config.json"))
            }
            try g.write(to: home.appendingPathComponent("genesis.json"))
            print("installed genesis \(h) into \(home.path)")
        }
    }
}

struct GenesisCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genesis", abstract: "Assemble a genesis from org cards, and show a genesis with its hash.",
        subcommands: [GenesisBuildCommand.self, GenesisShowCommand.self])
}

struct GenesisBuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Assemble a genesis from the orgs' public cards alone.")

    @Option(help: "An org card (card.json from `org init`); repeat for each org.") var card: [String]
    @Option(help: "Chain id.") var chainId: String
    @Option(help: "Where to write the genesis.") var out: String = "genesis.json"
    @Option(help: "GTIN-14 of a crab product under the association's rules; repeat for more.") var crabProduct: [String] =
        NetworkLayout.demoCrabProducts

    func run() throws {
        let cards = try card.map { try OrgCard.load(from: URL(fileURLWithPath: $0)) }
        let g = try GenesisBuilder.build(
            chainId: chainId, cards: cards, createdAt: Int64(Date().timeIntervalSince1970 * 1000), crabProducts: crabProduct)
        try g.write(to: URL(fileURLWithPath: out))
        print("wrote \(out)")
        print(try GenesisShowCommand.describe(g))
    }
}

struct GenesisShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a genesis's hash and contents, for the orgs to compare out of band.")

    @Argument(help: "Genesis file.") var file: String = "genesis.json"

    func run() throws { print(try Self.describe(try Genesis.load(from: URL(fileURLWithPath: file)))) }

    static func describe(_ g: Genesis) throws -> String {
        var lines = ["genesis hash \(try g.hash.hex)", "chain \(g.chainId), suite \(g.suite.rawValue)"]
        for o in g.orgs {
            let ca = (try? CertificateInfo(pem: o.caCertificate).fingerprint) ?? "?"
            lines.append(
                "  org \(o.name): CA \(ca.prefix(16))…, roles \(o.roles.map { $0.map(\.rawValue).joined(separator: ",") } ?? "any (no policy)")"
            )
        }
        for v in g.validators { lines.append("  validator \(v.nodeId) of \(v.org) at \(v.p2pAddress)") }
        return lines.joined(separator: "\n")
    }
}
