import ChainCore
import Foundation
import SwiftASN1
import Synchronization
import X509

/// An organisation of the consortium and its CA certificate, as listed in the genesis.
public struct OrganizationCA: Sendable {
    /// Organisation name (the O of its members' certificates).
    public let name: String
    /// The CA certificate.
    public let certificate: Certificate

    /// Parses the CA certificate PEM.
    public init(name: String, certificatePEM: String) throws(ChainError) {
        self.name = name
        do {
            self.certificate = try Certificate(pemEncoded: certificatePEM)
        } catch {
            throw ChainError(.badCertificate, "CA certificate of org \(name) does not parse")
        }
    }
}

/// Decides who signed what: verifies that a certificate chains to a consortium org's CA, is
/// within its validity, names a known role, and carries a key of the chain's suite.
///
/// Verified certificates are cached by fingerprint (the validity window is checked every time).
public final class MembershipService: Sendable {
    /// The chain's crypto suite.
    public let suite: CryptoSuite
    let orgs: [OrganizationCA]

    struct Verified: Sendable {
        let identity: SignerIdentity
        let publicKey: [UInt8]
        let notBefore: Date
        let notAfter: Date
    }

    private let cache = Mutex<[[UInt8]: Verified]>([:])
    private static let cacheLimit = 50_000

    /// Creates the service for the genesis orgs.
    public init(suite: CryptoSuite, orgs: [OrganizationCA]) {
        self.suite = suite
        self.orgs = orgs
    }

    /// The organisation names.
    public var orgNames: [String] { orgs.map(\.name) }

    /// Verifies a certificate at `time` and returns the identity and the raw public key.
    public func verify(certificateDER der: [UInt8], at time: Date) throws(ChainError) -> (SignerIdentity, [UInt8]) {
        let fingerprint = Hash256.sha256(der)
        let verified: Verified
        if let hit = cache.withLock({ $0[fingerprint.bytes] }) {
            verified = hit
        } else {
            verified = try verifyUncached(der: der, fingerprint: fingerprint)
            cache.withLock {
                if $0.count >= Self.cacheLimit { $0.removeAll(keepingCapacity: true) }
                $0[fingerprint.bytes] = verified
            }
        }
        guard time >= verified.notBefore else {
            throw ChainError(
                .certificateNotYetValid,
                "certificate of \(verified.identity.subject) is not valid until \(verified.notBefore)")
        }
        guard time <= verified.notAfter else {
            throw ChainError(.certificateExpired, "certificate of \(verified.identity.subject) expired at \(verified.notAfter)")
        }
        return (verified.identity, verified.publicKey)
    }

    private func verifyUncached(der: [UInt8], fingerprint: Hash256) throws(ChainError) -> Verified {
        let cert: Certificate
        do {
            cert = try Certificate(derEncoded: der)
        } catch {
            throw ChainError(.badCertificate, "signer certificate does not parse as X.509")
        }
        guard
            let org = orgs.first(where: {
                $0.certificate.subject == cert.issuer && $0.certificate.publicKey.isValidSignature(cert.signature, for: cert)
            })
        else {
            throw ChainError(.unknownCA, "signer certificate is not issued by the CA of any consortium organisation")
        }
        if let constraints = try? cert.extensions.basicConstraints, case .isCertificateAuthority = constraints {
            throw ChainError(.badCertificate, "a CA certificate cannot sign transactions")
        }
        guard cert.subjectAttribute(.RDNAttributeType.organizationName) == org.name else {
            throw ChainError(.badCertificate, "certificate subject O does not match its issuing org \(org.name)")
        }
        guard let ou = cert.subjectAttribute(.RDNAttributeType.organizationalUnitName), let role = Role(rawValue: ou) else {
            throw ChainError(.badCertificate, "certificate subject OU does not name a known role")
        }
        let subject = cert.subjectAttribute(.RDNAttributeType.commonName) ?? ""
        guard let key = cert.publicKey.rawBytes(for: suite) else {
            throw ChainError(.wrongSuite, "certificate key is not a \(suite.rawValue) key, as this chain requires")
        }
        let caNotAfter = org.certificate.notValidAfter
        return Verified(
            identity: SignerIdentity(org: org.name, role: role, subject: subject, certificateFingerprint: fingerprint.hex),
            publicKey: key,
            notBefore: max(cert.notValidBefore, org.certificate.notValidBefore),
            notAfter: min(cert.notValidAfter, caNotAfter)
        )
    }
}
