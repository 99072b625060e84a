import ChainCore
import Foundation
import Identity

#if canImport(Glibc)
    import Glibc
#endif

/// An organisation's key ceremony, run where the org keeps its keys: its root CA, the
/// intermediate CA of its console accounts, its admin identity, its nodes' keys and certificates
/// (naming the hosts and IP addresses they are reached at) and configs — and its public card,
/// the only thing that leaves. `xiangchain org init` runs it for one org; `init` and `devnet`
/// run it for every org of a local network.
public enum OrgKit {
    /// A node the org will run.
    public struct NodePlan: Sendable {
        /// Node id.
        public var nodeId: String
        /// Where it listens for peers: host (`0.0.0.0` for every interface) and port.
        public var p2pListenHost: String
        /// Its p2p port.
        public var p2pPort: Int
        /// Where peers reach it, host:port (what the genesis lists).
        public var p2pAdvertise: String
        /// Where its API listens.
        public var apiListenHost: String
        /// Its API port.
        public var apiPort: Int
        /// Where its API is reached (what the card lists).
        public var apiURL: String
        /// Host names and IP addresses for its certificate.
        public var hosts: [String]
        /// True for a validator, false for an observer.
        public var validator: Bool

        /// Creates a plan.
        public init(
            nodeId: String, p2pListenHost: String, p2pPort: Int, p2pAdvertise: String, apiListenHost: String, apiPort: Int,
            apiURL: String, hosts: [String], validator: Bool
        ) {
            self.nodeId = nodeId
            self.p2pListenHost = p2pListenHost
            self.p2pPort = p2pPort
            self.p2pAdvertise = p2pAdvertise
            self.apiListenHost = apiListenHost
            self.apiPort = apiPort
            self.apiURL = apiURL
            self.hosts = hosts
            self.validator = validator
        }
    }

    /// Where the ceremony writes.
    public struct Paths: Sendable {
        /// The root CA's directory (`ca.key.pem`, `ca.cert.pem`).
        public var rootCA: URL
        /// The console accounts' intermediate CA's directory.
        public var consoleCA: URL
        /// The admin identity's directory (`key.pem`, `cert.pem`).
        public var admin: URL
        /// A node's home, by node id and position.
        public var nodeHome: @Sendable (String, Int) -> URL

        /// Paths of a standalone org directory: `D/ca`, `D/console-ca`, `D/admin`, `D/nodes/<id>`.
        public static func standalone(_ d: URL) -> Paths {
            Paths(
                rootCA: d.appendingPathComponent("ca"), consoleCA: d.appendingPathComponent("console-ca"),
                admin: d.appendingPathComponent("admin"), nodeHome: { id, _ in d.appendingPathComponent("nodes/\(id)") })
        }

        /// Creates paths.
        public init(rootCA: URL, consoleCA: URL, admin: URL, nodeHome: @escaping @Sendable (String, Int) -> URL) {
            self.rootCA = rootCA
            self.consoleCA = consoleCA
            self.admin = admin
            self.nodeHome = nodeHome
        }
    }

    /// Runs the ceremony; returns the org's card. Refuses a directory that already holds a CA.
    public static func create(
        org: String, suite: CryptoSuite, roles: [Role], nodes: [NodePlan], paths: Paths, adminName: String? = nil
    ) throws -> OrgCard {
        guard NetworkLayout.isSafeName(org) else {
            throw ChainError(.badArgs, "org name \"\(org)\" must be 1–64 of [A-Za-z0-9_-]")
        }
        guard !FileManager.default.fileExists(atPath: paths.rootCA.appendingPathComponent("ca.key.pem").path) else {
            throw ChainError(.alreadyExists, "\(paths.rootCA.path) already holds a CA")
        }
        let roles = Array(Set(roles).subtracting([.admin])).sorted { $0.rawValue < $1.rawValue }
        if !nodes.isEmpty, !roles.contains(.node) {
            throw ChainError(.badArgs, "an org that runs nodes needs the node role")
        }
        let root = try CertificateAuthority.create(org: org, suite: suite)
        try writeCA(root, to: paths.rootCA)
        // Console accounts: every role of the org but node, from a CA whose key may live on a
        // node that serves the web (the root's key need not).
        let consoleRoles = roles.filter { $0 != .node } + [.admin]
        let console = try root.issueIntermediate(name: "\(org) console CA")
        try writeCA(console, to: paths.consoleCA)
        try issue(root, role: .admin, name: adminName ?? "\(org)-admin", to: paths.admin, suite: suite)
        // The org's hosting key: accounts and complaint contacts go on chain sealed under it, and
        // every node of the org holds a copy (docs/accounts.md, "Every node of the hosting org").
        let hostingKey = try SecretFile.loadOrCreateKey(paths.consoleCA.appendingPathComponent(Self.hostingKeyFile))
        var cardNodes: [OrgCard.Node] = []
        for (k, plan) in nodes.enumerated() {
            guard NetworkLayout.isSafeName(plan.nodeId) else {
                throw ChainError(.badArgs, "node id \"\(plan.nodeId)\" must be 1–64 of [A-Za-z0-9_-]")
            }
            let home = paths.nodeHome(plan.nodeId, k)
            try SecretFile.createPrivateDirectory(home.appendingPathComponent("data"))
            let key = SigningKey.generate(suite)
            let dns = plan.hosts.filter { ipBytes($0) == nil }
            let ips = plan.hosts.compactMap(ipBytes)
            let cert = try root.issue(
                role: .node, name: plan.nodeId, subjectKey: key, validity: 5 * 365 * 86400, dnsNames: dns, ipAddresses: ips)
            let certPEM = KeyPEM.certificatePEM(fromDER: cert.derBytes())
            try SecretFile.write(KeyPEM.encode(key), to: home.appendingPathComponent("node.key.pem"))
            try certPEM.write(to: home.appendingPathComponent("node.cert.pem"), atomically: true, encoding: .utf8)
            try SecretFile.write(Hex.encode(hostingKey), to: home.appendingPathComponent(Self.hostingKeyFile))
            var config = NodeConfig(nodeId: plan.nodeId, apiPort: plan.apiPort, p2pPort: plan.p2pPort)
            config.apiHost = plan.apiListenHost
            config.p2pListenHost = plan.p2pListenHost
            config.accountCA = paths.consoleCA.absoluteURL.standardizedFileURL.path
            try config.write(to: home.appendingPathComponent("config.json"))
            cardNodes.append(
                OrgCard.Node(
                    nodeId: plan.nodeId, certificate: certPEM, p2pAddress: plan.p2pAdvertise, apiURL: plan.apiURL,
                    validator: plan.validator))
        }
        return OrgCard(
            org: org, suite: suite, caCertificate: try root.certificatePEM, roles: roles,
            issuers: [
                ChainConfig.Issuer(
                    certificate: try console.certificatePEM, roles: consoleRoles.sorted { $0.rawValue < $1.rawValue })
            ],
            nodes: cardNodes)
    }

    /// The hosting key's file, in the org's `console-ca/` and in each of its node homes.
    public static let hostingKeyFile = "hosting-key"

    static func writeCA(_ ca: CertificateAuthority, to dir: URL) throws {
        try SecretFile.createPrivateDirectory(dir)
        try SecretFile.write(KeyPEM.encode(ca.key), to: dir.appendingPathComponent("ca.key.pem"))
        try ca.certificatePEM.write(to: dir.appendingPathComponent("ca.cert.pem"), atomically: true, encoding: .utf8)
    }

    static func issue(_ ca: CertificateAuthority, role: Role, name: String, to dir: URL, suite: CryptoSuite) throws {
        let key = SigningKey.generate(suite)
        let cert = try ca.issue(role: role, name: name, subjectKey: key)
        try SecretFile.createPrivateDirectory(dir)
        try SecretFile.write(KeyPEM.encode(key), to: dir.appendingPathComponent("key.pem"))
        try KeyPEM.certificatePEM(fromDER: cert.derBytes()).write(
            to: dir.appendingPathComponent("cert.pem"), atomically: true, encoding: .utf8)
    }

    /// The bytes of an IPv4 or IPv6 address literal, nil for a host name.
    static func ipBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        let literal = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if inet_pton(AF_INET6, literal, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

/// Assembles a genesis from org cards alone (`xiangchain genesis build`): every org with its CA,
/// the roles it asked for and its intermediate CAs; every validator node of the cards, in card
/// order. The orgs compare its hash (`genesis show`) out of band before they start.
public enum GenesisBuilder {
    /// The genesis of `cards`.
    public static func build(
        chainId: String, cards: [OrgCard], createdAt: Int64, crabProducts: [String]? = nil,
        approval: ChainConfig.ApprovalPolicy? = nil
    ) throws -> Genesis {
        guard NetworkLayout.isSafeName(chainId) else { throw ChainError(.badArgs, "chain id must be 1–64 of [A-Za-z0-9_-]") }
        guard let suite = cards.first?.suite else { throw ChainError(.badArgs, "give at least one org card") }
        for card in cards { try card.check() }
        guard cards.allSatisfy({ $0.suite == suite }) else {
            throw ChainError(.badArgs, "every org card must be of one crypto suite")
        }
        guard Set(cards.map(\.org)).count == cards.count else { throw ChainError(.badArgs, "two cards name the same org") }
        let nodeIds = cards.flatMap { $0.nodes.map(\.nodeId) }
        guard Set(nodeIds).count == nodeIds.count else { throw ChainError(.badArgs, "two nodes have the same id") }
        let validators = cards.flatMap { card in
            card.nodes.filter(\.validator).map {
                Genesis.Validator(nodeId: $0.nodeId, org: card.org, certificate: $0.certificate, p2pAddress: $0.p2pAddress)
            }
        }
        guard !validators.isEmpty else { throw ChainError(.badArgs, "the cards name no validator node") }
        var genesis = Genesis(
            chainId: chainId, suite: suite, createdAt: createdAt,
            orgs: cards.map {
                Genesis.Org(
                    name: $0.org, caCertificate: $0.caCertificate, roles: $0.roles, apiURL: $0.nodes.first?.apiURL,
                    issuers: $0.issuers.isEmpty ? nil : $0.issuers)
            }, validators: validators)
        genesis.crabProducts = crabProducts
        genesis.approval = approval
        return genesis
    }
}
