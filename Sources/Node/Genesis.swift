import ChainCore
import Foundation
import Identity

/// The genesis document: the chain id, crypto suite, member organisations with their CA
/// certificates, and the validators. Its hash (SHA-256 of its canonical JSON) binds every node's
/// database to one chain.
public struct Genesis: Codable, Sendable {
    /// An organisation and its CA certificate.
    public struct Org: Codable, Sendable {
        /// Organisation name.
        public var name: String
        /// CA certificate, PEM.
        public var caCertificate: String
        /// The roles its certificates may hold (besides `admin`); absent in genesis files made
        /// before role policies (then any role, and `/v1/status` warns).
        public var roles: [Role]?
        /// Its API address, from its org card.
        public var apiURL: String?
        /// Its intermediate CAs (e.g. of its nodes' console accounts), each limited to some roles.
        public var issuers: [ChainConfig.Issuer]?

        /// Creates an org entry.
        public init(
            name: String, caCertificate: String, roles: [Role]? = nil, apiURL: String? = nil,
            issuers: [ChainConfig.Issuer]? = nil
        ) {
            self.name = name
            self.caCertificate = caCertificate
            self.roles = roles
            self.apiURL = apiURL
            self.issuers = issuers
        }
    }

    /// A validator.
    public struct Validator: Codable, Sendable {
        /// Node id (the CN of its node certificate).
        public var nodeId: String
        /// Its organisation.
        public var org: String
        /// Its node certificate, PEM.
        public var certificate: String
        /// Its p2p address, host:port.
        public var p2pAddress: String

        /// Creates a validator entry.
        public init(nodeId: String, org: String, certificate: String, p2pAddress: String) {
            self.nodeId = nodeId
            self.org = org
            self.certificate = certificate
            self.p2pAddress = p2pAddress
        }
    }

    /// Chain id that every transaction names.
    public var chainId: String
    /// Crypto suite.
    public var suite: CryptoSuite
    /// Creation time, unix milliseconds.
    public var createdAt: Int64
    /// Member organisations.
    public var orgs: [Org]
    /// Validators, in leader order.
    public var validators: [Validator]
    /// GTIN-14s of the crab products under the association's rules (the `epcis` contract applies
    /// the crab role table to events about them). Chain-wide, so every node executes alike; absent
    /// in older genesis files (no products).
    public var crabProducts: [String]?
    /// The approval policy of governance; absent: `ChainConfig.ApprovalPolicy.standard`.
    public var approval: ChainConfig.ApprovalPolicy?

    /// Creates a genesis document.
    public init(chainId: String, suite: CryptoSuite, createdAt: Int64, orgs: [Org], validators: [Validator]) {
        self.chainId = chainId
        self.suite = suite
        self.createdAt = createdAt
        self.orgs = orgs
        self.validators = validators
    }

    /// Loads and checks a genesis file.
    public static func load(from url: URL) throws -> Genesis {
        let data = try Data(contentsOf: url)
        let g: Genesis
        do {
            g = try JSONDecoder().decode(Genesis.self, from: data)
        } catch {
            throw ChainError(.badGenesis, "\(url.path) is not a valid genesis document: \(error)")
        }
        guard !g.validators.isEmpty else { throw ChainError(.badGenesis, "genesis lists no validators") }
        guard NetworkLayout.isSafeName(g.chainId) else {
            throw ChainError(.badGenesis, "chain id must be 1–64 of [A-Za-z0-9_-]")
        }
        for v in g.validators where !NetworkLayout.isSafeName(v.nodeId) {
            throw ChainError(.badGenesis, "validator node id \"\(v.nodeId)\" must be 1–64 of [A-Za-z0-9_-]")
        }
        guard Set(g.orgs.map(\.name)).count == g.orgs.count else { throw ChainError(.badGenesis, "duplicate org names") }
        // Keys no private key makes are trusted for nothing (`CertificateInfo.hasSoundKey`): refused
        // here, where a chain first takes them, with the reason.
        let certificates =
            g.orgs.map { ("the CA certificate of org \($0.name)", $0.caCertificate) }
            + g.orgs.flatMap { o in (o.issuers ?? []).map { ("an issuing CA certificate of org \(o.name)", $0.certificate) } }
            + g.validators.map { ("the certificate of validator \($0.nodeId)", $0.certificate) }
        for (what, pem) in certificates {
            guard let cert = try? CertificateInfo(pem: pem) else { continue }
            guard cert.hasSoundKey else { throw ChainError(.badGenesis, "\(what) carries \(CertificateInfo.unsoundKey)") }
        }
        return g
    }

    /// Writes the genesis as pretty JSON.
    public func write(to url: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try enc.encode(self).write(to: url, options: .atomic)
    }

    /// The chain's hash (SHA-256, or SM3 on an sm2 chain) of the canonical JSON form
    /// (independent of whitespace and key order in the file).
    public var hash: Hash256 {
        get throws {
            let data = try JSONEncoder().encode(self)
            return suite.hasher.hash(try JSONParser().parse(Array(data)).canonicalBytes)
        }
    }

    /// The chain configuration the genesis starts with (version 0).
    public var initialConfig: ChainConfig {
        var parameters = ChainConfig.Parameters()
        parameters.crabProducts = crabProducts
        return ChainConfig(
            suite: suite,
            orgs: orgs.map {
                ChainConfig.Org(
                    name: $0.name, roots: [$0.caCertificate], issuers: $0.issuers ?? [],
                    roles: $0.roles.map { Array(Set($0)).sorted { $0.rawValue < $1.rawValue } },
                    apiURL: $0.apiURL)
            }.sorted { $0.name < $1.name },
            validators: validators.map {
                ChainConfig.Validator(nodeId: $0.nodeId, org: $0.org, certificate: $0.certificate, p2pAddress: $0.p2pAddress)
            },
            parameters: parameters, approval: approval ?? .standard)
    }

    /// The membership service of the genesis configuration.
    public func membership() throws -> MembershipService {
        try MembershipService(config: initialConfig)
    }
}

extension Genesis {
    /// Each validator's raw public key, by node id.
    public func validatorKeys() throws -> [String: [UInt8]] {
        var keys: [String: [UInt8]] = [:]
        for v in validators { keys[v.nodeId] = try KeyPEM.publicKey(certificatePEM: v.certificate, suite: suite) }
        return keys
    }

    /// Signatures needed to finalise a block: 1 for a single validator, 2f+1 of n = 3f+1 otherwise.
    public var quorum: Int { validators.count == 1 ? 1 : (validators.count * 2) / 3 + 1 }
}
