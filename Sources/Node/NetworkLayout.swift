import ChainCore
import Foundation
import Identity

/// Creates and reads a consortium directory: org CAs, genesis, validator homes and identities.
///
/// ```
/// D/genesis.json
/// D/orgs/<org>/ca.key.pem, ca.cert.pem
/// D/nodes/<k>/config.json, genesis.json, node.key.pem, node.cert.pem, data/
/// D/observers/<k>/ (the same files; config.json lists the validators' APIs in syncFrom)
/// D/identities/<name>/key.pem, cert.pem
/// ```
public struct NetworkLayout: Sendable {
    /// The directory.
    public let root: URL

    /// A layout rooted at `root`.
    public init(root: URL) { self.root = root }

    /// `D/genesis.json`.
    public var genesisURL: URL { root.appendingPathComponent("genesis.json") }
    /// Home of validator `k`.
    public func nodeHome(_ k: Int) -> URL { root.appendingPathComponent("nodes/\(k)") }
    /// Home of observer `k`.
    public func observerHome(_ k: Int) -> URL { root.appendingPathComponent("observers/\(k)") }
    /// Homes of the observers created so far, in order.
    public var observerHomes: [URL] {
        var out: [URL] = []
        while FileManager.default.fileExists(atPath: observerHome(out.count).appendingPathComponent("config.json").path) {
            out.append(observerHome(out.count))
        }
        return out
    }
    /// Directory of an org's CA.
    public func orgDir(_ org: String) -> URL { root.appendingPathComponent("orgs/\(org)") }
    /// Directory of an identity.
    public func identityDir(_ name: String) -> URL { root.appendingPathComponent("identities/\(name)") }

    /// True when the directory already holds a genesis.
    public var exists: Bool { FileManager.default.fileExists(atPath: genesisURL.path) }

    /// Directory of an org's console-accounts CA (an intermediate of its root).
    public func consoleCADir(_ org: String) -> URL { orgDir(org).appendingPathComponent("console-ca") }

    /// The role policy of a local network when none is given: org0 runs the platform and may hold
    /// every role; the other orgs are members (farm, merchant, logistics, consumer, node).
    public static func defaultRoles(for orgs: [String]) -> [String: [Role]] {
        var out: [String: [Role]] = [:]
        for (i, org) in orgs.enumerated() {
            out[org] =
                i == 0
                ? [.association, .regulator, .lab, .logistics, .farm, .merchant, .consumer, .node]
                : [.farm, .merchant, .logistics, .consumer, .node]
        }
        return out
    }

    /// Creates a consortium on this machine: each org's key ceremony (`OrgKit`: root CA, console
    /// CA, admin identity, and a validator for each of the first `validators` orgs, every org by
    /// default), then the genesis built from their cards, with `roles` as the role policy
    /// (default: `defaultRoles`).
    public func create(
        orgs: [String], suite: CryptoSuite, chainId: String, basePort: Int?, crabProducts: [String] = Self.demoCrabProducts,
        validators validatorCount: Int? = nil, roles: [String: [Role]]? = nil
    ) throws -> Genesis {
        guard !orgs.isEmpty else { throw ChainError(.badArgs, "give at least one org") }
        for org in orgs where !Self.isSafeName(org) {
            throw ChainError(.badArgs, "org name \"\(org)\" must be 1–64 of [A-Za-z0-9_-]")
        }
        guard Set(orgs).count == orgs.count else { throw ChainError(.badArgs, "org names must be unique") }
        guard Self.isSafeName(chainId) else { throw ChainError(.badArgs, "chain id must be 1–64 of [A-Za-z0-9_-]") }
        guard !exists else { throw ChainError(.alreadyExists, "\(root.path) already holds a network") }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let policy = roles ?? Self.defaultRoles(for: orgs)
        // Local ports: API P+k, p2p P+1000+k (local-network convention only).
        let apiBase = basePort ?? 8080
        let p2pBase = basePort.map { $0 + 1000 } ?? 7000
        // The first `validatorCount` orgs (all by default) run a validator each; the rest are
        // member orgs with a CA and accounts but no node.
        let running = min(max(validatorCount ?? orgs.count, 1), orgs.count)
        var cards: [OrgCard] = []
        for (i, org) in orgs.enumerated() {
            let nodes =
                i < running
                ? [
                    OrgKit.NodePlan(
                        nodeId: "node\(i)", p2pListenHost: "127.0.0.1", p2pPort: p2pBase + i,
                        p2pAdvertise: "127.0.0.1:\(p2pBase + i)", apiListenHost: "127.0.0.1", apiPort: apiBase + i,
                        apiURL: "http://127.0.0.1:\(apiBase + i)", hosts: ["localhost", "127.0.0.1"], validator: true)
                ] : []
            var orgRoles = policy[org] ?? []
            if !nodes.isEmpty, !orgRoles.contains(.node) { orgRoles.append(.node) }
            let layout = self
            cards.append(
                try OrgKit.create(
                    org: org, suite: suite, roles: orgRoles, nodes: nodes,
                    paths: OrgKit.Paths(
                        rootCA: orgDir(org), consoleCA: consoleCADir(org), admin: identityDir("\(org)-admin"),
                        nodeHome: { _, _ in layout.nodeHome(i) })))
        }
        let genesis = try GenesisBuilder.build(
            chainId: chainId, cards: cards, createdAt: Int64(Date().timeIntervalSince1970 * 1000), crabProducts: crabProducts)
        try genesis.write(to: genesisURL)
        for k in 0..<running { try genesis.write(to: nodeHome(k).appendingPathComponent("genesis.json")) }
        return genesis
    }

    /// Adds an observer run by `org`: a node certificate from the org's CA (node id `observer<k>`),
    /// API on `apiPort` (default: the first validator's API port + 100 + k), following the
    /// validators' APIs. Returns its home.
    @discardableResult
    public func addObserver(org: String, apiPort: Int? = nil) throws -> URL {
        let genesis = try Genesis.load(from: genesisURL)
        let ca = try loadCA(org)
        let k = observerHomes.count
        let home = observerHome(k)
        let nodeId = "observer\(k)"
        let validatorConfigs = try genesis.validators.indices.map {
            try NodeConfig.load(from: nodeHome($0).appendingPathComponent("config.json"))
        }
        let firstAPI = validatorConfigs.first?.apiPort ?? 8080
        let fm = FileManager.default
        try fm.createDirectory(at: home.appendingPathComponent("data"), withIntermediateDirectories: true)
        let key = SigningKey.generate(genesis.suite)
        let cert = try ca.issue(role: .node, name: nodeId, subjectKey: key, validity: 10 * 365 * 86400, dnsNames: ["localhost"])
        try writeSecret(KeyPEM.encode(key), to: home.appendingPathComponent("node.key.pem"))
        try KeyPEM.certificatePEM(fromDER: cert.derBytes()).write(
            to: home.appendingPathComponent("node.cert.pem"), atomically: true, encoding: .utf8)
        var config = NodeConfig(nodeId: nodeId, apiPort: apiPort ?? firstAPI + 100 + k, p2pPort: 0)
        config.syncFrom = validatorConfigs.map(\.apiURL)
        config.accountCA = consoleCADir(org).absoluteURL.standardizedFileURL.path
        // A node of the org: it holds the org's hosting key, and hosts what the org's validator
        // hosts (its accounts and complaint contacts come to it through the chain).
        let hostingKey = consoleCADir(org).appendingPathComponent(OrgKit.hostingKeyFile)
        if FileManager.default.fileExists(atPath: hostingKey.path) {
            let key = try SecretFile.loadOrCreateKey(hostingKey)
            try SecretFile.write(Hex.encode(key), to: home.appendingPathComponent(OrgKit.hostingKeyFile))
        }
        if let k = genesis.validators.firstIndex(where: { $0.org == org }) {
            config.hostedAccountCAs = try NodeConfig.load(from: nodeHome(k).appendingPathComponent("config.json"))
                .hostedAccountCAs
        }
        try config.write(to: home.appendingPathComponent("config.json"))
        try genesis.write(to: home.appendingPathComponent("genesis.json"))
        return home
    }

    private func loadCA(_ org: String) throws -> CertificateAuthority {
        let caDir = orgDir(org)
        guard FileManager.default.fileExists(atPath: caDir.path) else {
            throw ChainError(.notFound, "no org \"\(org)\" in \(root.path)")
        }
        return try CertificateAuthority(
            org: org,
            keyPEM: String(contentsOf: caDir.appendingPathComponent("ca.key.pem"), encoding: .utf8),
            certificatePEM: String(contentsOf: caDir.appendingPathComponent("ca.cert.pem"), encoding: .utf8))
    }

    /// The crab product GTINs a new network is created with: the association's ring product.
    public static let demoCrabProducts = ["09521234543213"]

    /// Issues a key and certificate for `name` under `org`'s CA into `D/identities/<name>`.
    @discardableResult
    public func issueIdentity(org: String, role: Role, name: String, validityDays: Int = 730) throws -> URL {
        guard Self.isSafeName(name) else { throw ChainError(.badArgs, "identity name must be 1–64 of [A-Za-z0-9_-]") }
        let ca = try loadCA(org)
        let genesis = try Genesis.load(from: genesisURL)
        // The chain would refuse it: say so now (the genesis policy; governance may change it later).
        if let member = genesis.initialConfig.org(org), !member.permits(role) {
            throw ChainError(
                .roleNotPermitted,
                "org \(org) may not hold role \(role.rawValue): the chain's role policy gives it \((member.roles ?? []).map(\.rawValue).joined(separator: ", ")) (change it with a governance proposal)"
            )
        }
        let dir = identityDir(name)
        guard !FileManager.default.fileExists(atPath: dir.path) else {
            throw ChainError(.alreadyExists, "identity \(name) already exists")
        }
        let key = SigningKey.generate(genesis.suite)
        let cert = try ca.issue(role: role, name: name, subjectKey: key, validity: Double(validityDays) * 86400)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try writeSecret(KeyPEM.encode(key), to: dir.appendingPathComponent("key.pem"))
        try KeyPEM.certificatePEM(fromDER: cert.derBytes()).write(
            to: dir.appendingPathComponent("cert.pem"), atomically: true, encoding: .utf8)
        return dir
    }

    /// 1–64 of [A-Za-z0-9_-]: names of orgs, nodes, chains and identities.
    public static func isSafeName(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count)
            && s.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7a) || $0 == 0x2d || $0 == 0x5f
            }
    }

    private func writeSecret(_ text: String, to url: URL) throws {
        try SecretFile.write(text, to: url)
    }
}

/// A validator's home directory: config, genesis, node key, data.
public struct NodeHome: Sendable {
    /// The directory.
    public let url: URL
    /// Its config.
    public let config: NodeConfig
    /// The chain's genesis.
    public let genesis: Genesis
    /// The node's key.
    public let key: SigningKey

    /// Loads a home directory.
    public init(_ url: URL) throws {
        self.url = url
        config = try NodeConfig.load(from: url.appendingPathComponent("config.json"))
        genesis = try Genesis.load(from: url.appendingPathComponent("genesis.json"))
        key = try KeyPEM.decode(String(contentsOf: url.appendingPathComponent("node.key.pem"), encoding: .utf8))
    }

    /// Path of the SQLite database.
    public var databasePath: String {
        let data = url.appendingPathComponent("data")
        try? FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        return data.appendingPathComponent("chain.sqlite").path
    }
}
