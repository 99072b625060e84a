import CSMShim
import ChainCore
import Foundation

/// Trusted SM2 root certificates and known intermediates, for verifying certificate chains
/// with OpenSSL's path validation (RFC 5280, strict mode, root self-signatures checked).
///
/// OpenSSL 3.0 checks each certificate's SM2 signature with an id stored on that certificate
/// object, empty by default; the store sets `userID` on every certificate it holds and on
/// each leaf, so whole chains verify with the GM/T 0009 default id.
public final class SM2TrustStore: @unchecked Sendable {
    // @unchecked: the OpenSSL store is filled in init and only read afterwards; OpenSSL 3 allows
    // concurrent X509_verify_cert on one X509_STORE.
    private let chain: OpaquePointer
    /// The trusted roots.
    public let roots: [SM2Certificate]
    /// The intermediates offered for path building (not trusted by themselves).
    public let intermediates: [SM2Certificate]

    /// A store trusting `roots`, with `intermediates` available to complete paths.
    public init(roots: [SM2Certificate], intermediates: [SM2Certificate] = [], userID: [UInt8] = SM2.defaultUserID)
        throws(ChainError)
    {
        try SM2.checkUserID(userID)
        guard let chain = gm_chain_new(userID, userID.count) else { throw OpenSSL.failure("creating a trust store failed") }
        self.chain = chain
        self.roots = roots
        self.intermediates = intermediates
        for (certificates, trusted) in [(roots, 1), (intermediates, 0)] {
            for certificate in certificates {
                let der = certificate.derRepresentation
                guard gm_chain_add(chain, Int32(trusted), der, der.count) == GM_OK else {
                    throw OpenSSL.failure("adding \(certificate.subject) to the trust store failed")
                }
            }
        }
    }

    deinit { gm_chain_free(chain) }

    /// Verifies that `leaf` chains to a trusted root at `date`: every signature, validity window,
    /// CA flag, key usage and path length on the way. Throws `certificate_expired`,
    /// `certificate_not_yet_valid`, `unknown_ca` (signature, issuer or root) or `bad_certificate`
    /// (CA flag, path length, extensions), with OpenSSL's reason in the message.
    public func verify(_ leaf: SM2Certificate, at date: Date) throws(ChainError) {
        var error: Int32 = 0
        var depth: Int32 = 0
        let der = leaf.derRepresentation
        let status = gm_chain_verify(chain, der, der.count, Int64(date.timeIntervalSince1970.rounded(.down)), &error, &depth)
        guard status != GM_OK else { return }
        guard status == GM_ERR_CHAIN else { throw OpenSSL.failure("chain verification failed") }
        let reason = String(cString: gm_x509_error_text(error))
        let at = depth == 0 ? "the certificate of \(leaf.subject)" : "depth \(depth) of the chain of \(leaf.subject)"
        let code: ErrorCode
        switch gm_x509_error_class(error) {
        case GM_CHAIN_EXPIRED: code = .certificateExpired
        case GM_CHAIN_NOT_YET_VALID: code = .certificateNotYetValid
        case GM_CHAIN_BAD_SIGNATURE, GM_CHAIN_UNKNOWN_ISSUER, GM_CHAIN_UNTRUSTED_ROOT: code = .unknownCA
        default: code = .badCertificate  // not a CA, path length, extensions, other
        }
        throw ChainError(code, "\(at): \(reason) (OpenSSL X509_V_ERR \(error))")
    }
}
