import ChainCore
import EvidenceContract
import Execution
import Foundation
import Identity
import Logging
import Node

/// A consortium made in memory for tests: org CAs, a genesis with one validator, and
/// identities of any role, without touching the disk.
public struct TestConsortium: Sendable {
    /// The chain's suite.
    public let suite: CryptoSuite
    /// The CAs, by org.
    public let cas: [String: CertificateAuthority]
    /// The genesis.
    public let genesis: Genesis
    /// The validators' keys, in validator order.
    public let nodeKeys: [SigningKey]
    /// The first validator's key.
    public var nodeKey: SigningKey { nodeKeys[0] }

    /// Creates orgs; the first `validators` of them host one validator each (`node0`, `node1`, …).
    /// `roles` gives orgs a role policy (the roles each may hold); without it any org may hold any role.
    public init(
        orgs: [String] = ["org0", "org1"], validators: Int = 1, suite: CryptoSuite = .ed25519, chainId: String = "test-chain",
        roles: [String: [Role]]? = nil
    )
        throws
    {
        self.suite = suite
        var cas: [String: CertificateAuthority] = [:]
        for org in orgs { cas[org] = try CertificateAuthority.create(org: org, suite: suite) }
        self.cas = cas
        var keys: [SigningKey] = []
        var entries: [Genesis.Validator] = []
        for k in 0..<validators {
            let key = SigningKey.generate(suite)
            let org = orgs[k % orgs.count]
            let cert = try cas[org]!.issue(role: .node, name: "node\(k)", subjectKey: key, dnsNames: ["localhost"])
            keys.append(key)
            entries.append(
                Genesis.Validator(
                    nodeId: "node\(k)", org: org, certificate: KeyPEM.certificatePEM(fromDER: cert.derBytes()),
                    p2pAddress: "127.0.0.1:\(7000 + k)"))
        }
        nodeKeys = keys
        genesis = Genesis(
            chainId: chainId, suite: suite, createdAt: 0,
            orgs: try orgs.map { org in
                Genesis.Org(name: org, caCertificate: try cas[org]!.certificatePEM, roles: roles.map { $0[org] ?? [] })
            }, validators: entries)
    }

    /// A new identity with `role` in `org`.
    public func identity(
        _ role: Role, org: String? = nil, name: String? = nil, validFrom: Date = Date(), validity: TimeInterval = 86400
    )
        throws -> SigningIdentity
    {
        let o = org ?? genesis.orgs[0].name
        let key = SigningKey.generate(suite)
        let cert = try cas[o]!.issue(
            role: role, name: name ?? "\(role.rawValue)-1", subjectKey: key, now: validFrom, validity: validity)
        return SigningIdentity(key: key, certificate: cert)
    }

    /// The membership service of the genesis.
    public func membership() throws -> MembershipService { try genesis.membership() }

    /// The membership cache of the genesis configuration (what admission uses).
    public func memberships() throws -> MembershipCache { try MembershipCache(genesis.initialConfig) }

    /// Validator `k`'s node on the SQLite file `directory/node<k>.sqlite`, running `contracts`
    /// (the evidence contract unless told otherwise).
    public func node(
        in directory: URL, config: NodeConfig? = nil, validator k: Int = 0, contracts: [any Contract] = [EvidenceContract()],
        metrics: NodeMetrics = NodeMetrics()
    ) throws -> ChainNode {
        try ChainNode(
            genesis: genesis, config: config ?? NodeConfig(nodeId: "node\(k)"),
            databasePath: directory.appendingPathComponent(k == 0 ? "chain.sqlite" : "node\(k).sqlite").path,
            nodeKey: nodeKeys[k],
            contracts: contracts, logger: Logger(label: "test"), metrics: metrics)
    }

    /// Validator `k`'s gateway identity: its node key with the node certificate of the genesis (role `node`).
    public func nodeIdentity(validator k: Int = 0) throws -> SigningIdentity {
        try SigningIdentity(key: nodeKeys[k], certificatePEM: genesis.validators[k].certificate)
    }
}

extension TestConsortium {
    /// An observer node (not a validator) on `directory/<name>.sqlite`, with a fresh node key.
    public func observer(
        in directory: URL, name: String = "observer0", syncFrom: [String] = ["http://127.0.0.1:1"],
        contracts: [any Contract] = [EvidenceContract()]
    ) throws -> ChainNode {
        var config = NodeConfig(nodeId: name)
        config.syncFrom = syncFrom
        config.syncCommits = false
        return try ChainNode(
            genesis: genesis, config: config, databasePath: directory.appendingPathComponent("\(name).sqlite").path,
            nodeKey: SigningKey.generate(suite), contracts: contracts, logger: Logger(label: name))
    }
}

/// A temporary directory removed when the closure returns.
public func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async rethrows -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("xc-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

/// Helpers to build evidence transactions.
public enum Fixtures {
    /// A random 64-hex-character hash.
    public static func randomHash() -> String {
        Hash256.sha256(Array(UUID().uuidString.utf8)).hex
    }

    /// Args of an evidence put.
    public static func evidenceArgs(hash: String = randomHash(), kind: String = "doc", meta: [String: JSONValue] = [:])
        -> JSONValue
    {
        .object(["hash": .string(hash), "kind": .string(kind), "meta": .object(meta)])
    }

    /// Node clock now, unix ms.
    public static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// The `ChainError` code that `body` throws, "(no error)" when it returns, or the description
/// of any other error.
public func errorCode<T>(_ body: () throws -> T) -> String {
    do {
        _ = try body()
        return "(no error)"
    } catch let e as ChainError {
        return e.code.rawValue
    } catch {
        return "\(error)"
    }
}

/// Polls `condition` every few milliseconds until it holds, for at most `limit` (a bound for
/// failures only: a full suite on a loaded 2-core machine was seen to take over 30 s to admit one
/// transaction); true when it held.
public func pollUntil(within limit: Duration = .seconds(180), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while !condition() {
        guard ContinuousClock.now < deadline else { return false }
        try await Task.sleep(for: .milliseconds(5))
    }
    return true
}
