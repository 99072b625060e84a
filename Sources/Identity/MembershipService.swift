import ChainCore
import Foundation
import Synchronization

/// Decides who signed what under one version of the chain configuration: a certificate must be
/// issued by a root or a registered intermediate CA of a member org, be within its validity (and
/// its issuer's), name its org in subject O and a role the org may hold in subject OU, carry a
/// key of the chain's suite, and be neither revoked nor issued by a revoked CA.
///
/// Verified certificates are cached by fingerprint (the validity window is checked every time);
/// a new configuration gets a new service (`MembershipCache`).
public final class MembershipService: Sendable {
    /// The chain's crypto suite.
    public let suite: CryptoSuite
    /// The configuration this service checks against.
    public let config: ChainConfig
    let issuers: [IssuingCA]

    /// A CA that may issue member certificates.
    struct IssuingCA: Sendable {
        let org: String
        let certificate: CertificateInfo
        let fingerprint: String
        /// The roles it may issue (nil: whatever the org may hold).
        let roles: Set<Role>?
    }

    struct Verified: Sendable {
        let identity: SignerIdentity
        let publicKey: [UInt8]
        let notBefore: Date
        let notAfter: Date
    }

    private let cache = Mutex<[Hash256: Verified]>([:])
    private static let cacheLimit = 50_000

    /// Creates the service for a configuration; CA certificates that do not parse are refused
    /// (`bad_certificate`).
    public init(config: ChainConfig) throws(ChainError) {
        suite = config.suite
        self.config = config
        var issuers: [IssuingCA] = []
        for org in config.orgs {
            for pem in org.roots {
                let cert = try Self.parse(pem, what: "a CA certificate of org \(org.name)")
                issuers.append(IssuingCA(org: org.name, certificate: cert, fingerprint: cert.fingerprint, roles: nil))
            }
            for issuer in org.issuers {
                let cert = try Self.parse(issuer.certificate, what: "an issuing CA certificate of org \(org.name)")
                issuers.append(
                    IssuingCA(org: org.name, certificate: cert, fingerprint: cert.fingerprint, roles: Set(issuer.roles)))
            }
        }
        self.issuers = issuers
    }

    static func parse(_ pem: String, what: String) throws(ChainError) -> CertificateInfo {
        do {
            return try CertificateInfo(pem: pem)
        } catch {
            throw ChainError(.badCertificate, "\(what) does not parse")
        }
    }

    /// The organisation names.
    public var orgNames: [String] { config.orgs.map(\.name) }

    /// Verifies a certificate at `time` and returns the identity and the raw public key.
    public func verify(certificateDER der: [UInt8], at time: Date) throws(ChainError) -> (SignerIdentity, [UInt8]) {
        let fingerprint = Hash256.sha256(der)
        let verified: Verified
        if let hit = cache.withLock({ $0[fingerprint] }) {
            verified = hit
        } else {
            verified = try verifyUncached(der: der, fingerprint: fingerprint)
            cache.withLock {
                if $0.count >= Self.cacheLimit { $0.removeAll(keepingCapacity: true) }
                $0[fingerprint] = verified
            }
        }
        guard time >= verified.notBefore else {
            throw ChainError(
                .certificateNotYetValid,
                "certificate of \(verified.identity.subject) is not valid until \(verified.notBefore)")
        }
        guard time <= verified.notAfter else {
            throw ChainError(
                .certificateExpired, "certificate of \(verified.identity.subject) expired at \(verified.notAfter)")
        }
        return (verified.identity, verified.publicKey)
    }

    /// The identity and key of a certificate issued by a member org's CA, without the checks of
    /// validity, role policy and revocation: for transactions of blocks a quorum certified, whose
    /// fate the executor decides under the configuration of their block.
    public func identify(certificateDER der: [UInt8]) throws(ChainError) -> (SignerIdentity, [UInt8]) {
        let (cert, issuer, identity) = try parseMember(der: der, fingerprint: Hash256.sha256(der))
        guard let key = cert.publicKey(for: suite) else {
            throw ChainError(.wrongSuite, "certificate key is not a \(suite.rawValue) key, as this chain requires")
        }
        _ = issuer
        return (identity, key)
    }

    /// Parses a member certificate and finds its issuer: chain to a member CA, not a CA itself,
    /// O of the issuing org, OU a known role.
    private func parseMember(der: [UInt8], fingerprint: Hash256) throws(ChainError)
        -> (CertificateInfo, IssuingCA, SignerIdentity)
    {
        let cert: CertificateInfo
        do {
            cert = try CertificateInfo(der: der)
        } catch {
            throw ChainError(.badCertificate, "signer certificate does not parse as X.509")
        }
        guard let issuer = issuers.first(where: { cert.isIssued(by: $0.certificate) }) else {
            throw ChainError(.unknownCA, "signer certificate is not issued by the CA of any consortium organisation")
        }
        if cert.isCA {
            throw ChainError(.badCertificate, "a CA certificate cannot sign transactions")
        }
        guard cert.hasSoundKey else {
            throw ChainError(
                .badCertificate,
                "signer certificate carries \(CertificateInfo.unsoundKey)"
            )
        }
        guard cert.org == issuer.org else {
            throw ChainError(.badCertificate, "certificate subject O does not match its issuing org \(issuer.org)")
        }
        guard let ou = cert.unit, let role = Role(rawValue: ou) else {
            throw ChainError(.badCertificate, "certificate subject OU does not name a known role")
        }
        let subject = cert.commonName ?? ""
        return (
            cert, issuer,
            SignerIdentity(org: issuer.org, role: role, subject: subject, certificateHash: fingerprint)
        )
    }

    private func verifyUncached(der: [UInt8], fingerprint: Hash256) throws(ChainError) -> Verified {
        let (cert, issuer, identity) = try parseMember(der: der, fingerprint: fingerprint)
        let role = identity.role
        let subject = identity.subject
        guard let org = config.org(issuer.org), org.permits(role), issuer.roles.map({ $0.contains(role) }) ?? true else {
            throw ChainError(
                .roleNotPermitted,
                "org \(issuer.org) may not hold role \(role.rawValue) (the chain's role policy); \(subject)'s certificate is refused"
            )
        }
        guard !config.isRevoked(fingerprint.hex) else {
            throw ChainError(.certificateRevoked, "the certificate of \(subject) (\(issuer.org)) is revoked")
        }
        guard !config.isRevoked(issuer.fingerprint) else {
            throw ChainError(.certificateRevoked, "the CA that issued \(subject)'s certificate (\(issuer.org)) is revoked")
        }
        guard let key = cert.publicKey(for: suite) else {
            throw ChainError(.wrongSuite, "certificate key is not a \(suite.rawValue) key, as this chain requires")
        }
        return Verified(
            identity: identity,
            publicKey: key,
            notBefore: max(cert.notBefore, issuer.certificate.notBefore),
            notAfter: min(cert.notAfter, issuer.certificate.notAfter)
        )
    }
}

/// The membership service of the configuration in force now, replaced as governance changes the
/// configuration (admission, signed requests and console sessions use the latest one).
public final class MembershipCache: Sendable {
    private let current: Mutex<MembershipService>

    /// Starts with `config`.
    public init(_ config: ChainConfig) throws(ChainError) {
        current = Mutex(try MembershipService(config: config))
    }

    /// The service now.
    public var service: MembershipService { current.withLock { $0 } }

    /// The service for `config`: the current one when it is of the same version, else a new one
    /// (which becomes current when it is newer).
    public func service(for config: ChainConfig) throws(ChainError) -> MembershipService {
        let now = service
        if now.config.version == config.version && now.config == config { return now }
        let fresh = try MembershipService(config: config)
        current.withLock { if config.version >= $0.config.version { $0 = fresh } }
        return fresh
    }
}
