import ChainCore
import Foundation

/// The chain's configuration: its member organisations with their CAs and the roles each may
/// hold, the validators, chain-wide parameters, the approval policy of governance and the
/// revoked certificates. The genesis is its first version; afterwards only approved governance
/// proposals change it (`docs/governance.md`), and a change takes effect from the next block.
///
/// Every node executes with the configuration as of the start of each block, so all of them
/// refuse the same signers at the same height.
public struct ChainConfig: Codable, Sendable, Equatable {
    /// A member organisation.
    public struct Org: Codable, Sendable, Equatable {
        /// Organisation name (the subject O of its members' certificates).
        public var name: String
        /// Its root CA certificates, PEM (more than one while a CA is rotated).
        public var roots: [String]
        /// Intermediate CAs the org registered itself (e.g. the CA of a node's console accounts),
        /// each limited to some of the org's roles.
        public var issuers: [Issuer]
        /// The roles this org's certificates may hold; nil: any role (a chain whose genesis
        /// predates role policies — `/v1/status` warns about it).
        public var roles: [Role]?
        /// Its API address, for people and tools (from its org card), if known.
        public var apiURL: String?

        /// Creates an org entry.
        public init(name: String, roots: [String], issuers: [Issuer] = [], roles: [Role]?, apiURL: String? = nil) {
            self.name = name
            self.roots = roots
            self.issuers = issuers
            self.roles = roles
            self.apiURL = apiURL
        }

        /// Whether certificates of this org may hold `role` (`admin` always may).
        public func permits(_ role: Role) -> Bool { role == .admin || roles.map { $0.contains(role) } ?? true }
    }

    /// An intermediate CA of an org.
    public struct Issuer: Codable, Sendable, Equatable {
        /// Its certificate, PEM (issued by one of the org's roots).
        public var certificate: String
        /// The roles it may issue.
        public var roles: [Role]

        /// Creates an issuer entry.
        public init(certificate: String, roles: [Role]) {
            self.certificate = certificate
            self.roles = roles
        }
    }

    /// A validator.
    public struct Validator: Codable, Sendable, Equatable {
        /// Node id (the CN of its node certificate).
        public var nodeId: String
        /// Its organisation.
        public var org: String
        /// Its node certificate, PEM.
        public var certificate: String
        /// Its advertised p2p address, host:port.
        public var p2pAddress: String

        /// Creates a validator entry.
        public init(nodeId: String, org: String, certificate: String, p2pAddress: String) {
            self.nodeId = nodeId
            self.org = org
            self.certificate = certificate
            self.p2pAddress = p2pAddress
        }
    }

    /// How many member orgs must approve a proposal.
    public struct ApprovalPolicy: Codable, Sendable, Equatable {
        /// Ordinary changes pass when approvals × `ordinaryDenominator` > orgs × `ordinaryNumerator`
        /// (default: more than half of the member orgs).
        public var ordinaryNumerator: Int
        /// See `ordinaryNumerator`.
        public var ordinaryDenominator: Int
        /// Changes of validators, roles, orgs' removal and of this policy pass when approvals ×
        /// `criticalDenominator` ≥ orgs × `criticalNumerator` (default: at least two thirds).
        public var criticalNumerator: Int
        /// See `criticalNumerator`.
        public var criticalDenominator: Int
        /// How long a proposal stays open, milliseconds (default 7 days).
        public var proposalLifetimeMs: Int64

        /// The defaults: more than half; at least two thirds for critical changes; 7 days.
        public static let standard = ApprovalPolicy(
            ordinaryNumerator: 1, ordinaryDenominator: 2, criticalNumerator: 2, criticalDenominator: 3,
            proposalLifetimeMs: 7 * 86_400_000)

        /// Creates a policy.
        public init(
            ordinaryNumerator: Int, ordinaryDenominator: Int, criticalNumerator: Int, criticalDenominator: Int,
            proposalLifetimeMs: Int64
        ) {
            self.ordinaryNumerator = ordinaryNumerator
            self.ordinaryDenominator = ordinaryDenominator
            self.criticalNumerator = criticalNumerator
            self.criticalDenominator = criticalDenominator
            self.proposalLifetimeMs = proposalLifetimeMs
        }

        /// Whether `approvals` of `orgs` member orgs pass a change of the given weight.
        public func passes(approvals: Int, of orgs: Int, critical: Bool) -> Bool {
            critical
                ? approvals * criticalDenominator >= orgs * criticalNumerator
                : approvals * ordinaryDenominator > orgs * ordinaryNumerator
        }
    }

    /// Chain-wide parameters every node applies alike.
    public struct Parameters: Codable, Sendable, Equatable {
        /// Most transactions per block.
        public var maxBlockTxs: Int?
        /// Largest block payload, bytes.
        public var maxBlockBytes: Int?
        /// BFT round timeout before back-off, milliseconds.
        public var roundTimeoutMs: Int?
        /// Mempool capacity of each node.
        public var mempoolCapacity: Int?
        /// GTIN-14s of the crab products under the association's rules.
        public var crabProducts: [String]?
        /// Who may upload, deploy, upgrade and freeze WebAssembly contracts: entries `org/role`,
        /// where either side may be `*` (nil: `*/admin`, every org's admins; empty: nobody).
        public var contractDeployers: [String]?
        /// Fuel budget of one WebAssembly contract transaction (nil: 50,000,000).
        public var contractTxFuel: Int?
        /// Fuel budget of all WebAssembly contract transactions of one block (nil: 1,000,000,000).
        public var contractBlockFuel: Int?

        /// The deployers in force.
        public var deployers: [String] { contractDeployers ?? ["*/admin"] }

        /// Whether a signer of `org` with `role` may deploy contracts.
        public func mayDeploy(org: String, role: String) -> Bool {
            deployers.contains { entry in
                let parts = entry.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { return false }
                return (parts[0] == "*" || parts[0] == org) && (parts[1] == "*" || parts[1] == role)
            }
        }

        /// No overrides: each node's own settings apply.
        public init() {}
    }

    /// Increases with every applied change (0: the genesis).
    public var version: Int
    /// The validator-set epoch (0: the genesis validators).
    public var epoch: UInt64
    /// The chain's crypto suite (fixed at genesis).
    public var suite: CryptoSuite
    /// Member organisations, by name.
    public var orgs: [Org]
    /// Validators, in leader order.
    public var validators: [Validator]
    /// Chain-wide parameters.
    public var parameters: Parameters
    /// The approval policy of governance.
    public var approval: ApprovalPolicy
    /// SHA-256 fingerprints (lowercase hex of the DER) of revoked certificates, sorted.
    public var revoked: [String]

    /// Creates a configuration.
    public init(
        version: Int = 0, epoch: UInt64 = 0, suite: CryptoSuite, orgs: [Org], validators: [Validator],
        parameters: Parameters = Parameters(), approval: ApprovalPolicy = .standard, revoked: [String] = []
    ) {
        self.version = version
        self.epoch = epoch
        self.suite = suite
        self.orgs = orgs
        self.validators = validators
        self.parameters = parameters
        self.approval = approval
        self.revoked = revoked
    }

    /// The org named `name`.
    public func org(_ name: String) -> Org? { orgs.first { $0.name == name } }

    /// True when every org has a role policy.
    public var hasRolePolicy: Bool { orgs.allSatisfy { $0.roles != nil } }

    /// Whether the certificate with this fingerprint is revoked.
    public func isRevoked(_ fingerprint: String) -> Bool {
        var lo = 0
        var hi = revoked.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if revoked[mid] < fingerprint { lo = mid + 1 } else { hi = mid }
        }
        return lo < revoked.count && revoked[lo] == fingerprint
    }

    /// Adds fingerprints to the revoked list (kept sorted and unique).
    public mutating func revoke(_ fingerprints: [String]) {
        revoked = Array(Set(revoked).union(fingerprints)).sorted()
    }

    // MARK: encoding

    /// Canonical JSON bytes: the form stored on chain (`governance/config`) and hashed.
    public var canonicalBytes: [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, integers and arrays cannot fail.
        let data = (try? enc.encode(self)) ?? Data()
        return (try? JSONParser().parse(Array(data)).canonicalBytes) ?? Array(data)
    }

    /// Decodes the stored form.
    public init(canonical bytes: [UInt8]) throws(ChainError) {
        do {
            self = try JSONDecoder().decode(ChainConfig.self, from: Data(bytes))
        } catch {
            throw ChainError(.storageCorrupt, "the stored chain configuration does not decode: \(error)")
        }
    }

    /// The chain's hash (SHA-256, or SM3 on an sm2 chain) of the canonical form.
    public var hash: Hash256 { suite.hasher.hash(canonicalBytes) }
}
