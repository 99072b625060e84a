import ChainCore
import Foundation
import HTTPTypes
import Identity

/// Authenticates a signed HTTP request (`docs/api-auth.md`): a consortium certificate, a
/// timestamp near the node clock, and a signature with the chain's suite over the request line.
///
/// Headers: `X-XC-Certificate` (standard base64 of the certificate's DER bytes), `X-XC-Timestamp`
/// (unix milliseconds, decimal), `X-XC-Signature` (standard base64 of the signature over
/// `requestMessage`). Checks, in order: all three present (`unauthenticated`), timestamp within
/// the window (`stale_request`), certificate chains to a genesis org CA and is valid now
/// (`bad_certificate`, `unknown_ca`, `certificate_expired`, …), signature (`bad_signature`), role
/// (`forbidden`). A signed request can be replayed inside the window: use it for reads only.
public struct RequestAuthenticator: Sendable {
    /// Domain separation tag, the first line of the signed message.
    public static let domain = "XIANGCHAIN-REQUEST-V1"
    /// Header carrying the base64 DER certificate.
    public static let certificateHeader = HTTPField.Name("X-XC-Certificate")!
    /// Header carrying the unix-millisecond timestamp.
    public static let timestampHeader = HTTPField.Name("X-XC-Timestamp")!
    /// Header carrying the base64 signature.
    public static let signatureHeader = HTTPField.Name("X-XC-Signature")!
    /// Largest accepted certificate header, characters.
    static let maxCertificateHeader = 16 * 1024

    /// Certificates and roles of the consortium, under the configuration in force.
    public var membership: MembershipService { memberships.service }
    let memberships: MembershipCache
    /// Largest distance between the request's timestamp and the node clock, milliseconds.
    public let windowMillis: Int64

    /// Creates an authenticator (default window ±5 minutes).
    public init(memberships: MembershipCache, windowMillis: Int64 = 300_000) {
        self.memberships = memberships
        self.windowMillis = windowMillis
    }

    /// The bytes a client signs: `domain \n METHOD \n path-with-query \n timestamp`, UTF-8, no trailing newline.
    /// `target` is the request target exactly as sent (path and query, percent-encoding untouched).
    public static func requestMessage(method: String, target: String, timestamp: String) -> [UInt8] {
        Array("\(domain)\n\(method)\n\(target)\n\(timestamp)".utf8)
    }

    /// The three headers that sign `method target` as `identity` at `timestamp` (unix ms), for clients and tests.
    public static func headers(
        signing identity: SigningIdentity, method: String, target: String, timestamp: Int64
    ) throws -> HTTPFields {
        let signature = try identity.key.sign(requestMessage(method: method, target: target, timestamp: String(timestamp)))
        var h = HTTPFields()
        h[certificateHeader] = Data(identity.certificateDER).base64EncodedString()
        h[timestampHeader] = String(timestamp)
        h[signatureHeader] = Data(signature).base64EncodedString()
        return h
    }

    /// Verifies the signed request `method target` with `headers` at node time `nowMillis` and returns its signer.
    public func authenticate(
        method: String, target: String, headers: HTTPFields, nowMillis: Int64
    ) throws(ChainError) -> SignerIdentity {
        guard let certB64 = headers[Self.certificateHeader], let stamp = headers[Self.timestampHeader],
            let sigB64 = headers[Self.signatureHeader]
        else {
            throw ChainError(
                .unauthenticated, "this route needs a signed request: X-XC-Certificate, X-XC-Timestamp and X-XC-Signature")
        }
        guard stamp.utf8.count <= 16, stamp.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let time = Int64(stamp) else {
            throw ChainError(.unauthenticated, "X-XC-Timestamp must be unix milliseconds")
        }
        guard abs(time - nowMillis) <= windowMillis else {
            throw ChainError(
                .staleRequest, "X-XC-Timestamp \(time) is more than \(windowMillis / 1000) s from the node clock \(nowMillis)")
        }
        guard certB64.utf8.count <= Self.maxCertificateHeader, let der = Data(base64Encoded: certB64), !der.isEmpty else {
            throw ChainError(.badCertificate, "X-XC-Certificate must be base64 of the certificate's DER bytes")
        }
        let membership = self.membership
        let (signer, publicKey) = try membership.verify(
            certificateDER: Array(der), at: Date(timeIntervalSince1970: Double(nowMillis) / 1000))
        guard sigB64.utf8.count <= 1024, let signature = Data(base64Encoded: sigB64),
            membership.suite.verify(
                signature: Array(signature), message: Self.requestMessage(method: method, target: target, timestamp: stamp),
                publicKey: publicKey)
        else {
            throw ChainError(.badSignature, "X-XC-Signature does not verify over the request with the certificate's key")
        }
        return signer
    }

    /// `authenticate`, then requires one of `roles` (`forbidden` otherwise).
    public func authorize(
        method: String, target: String, headers: HTTPFields, nowMillis: Int64, roles: Set<Role>
    ) throws(ChainError) -> SignerIdentity {
        let signer = try authenticate(method: method, target: target, headers: headers, nowMillis: nowMillis)
        guard roles.contains(signer.role) else {
            throw ChainError(
                .forbidden,
                "this route is for role \(roles.map(\.rawValue).sorted().joined(separator: " or ")); the signer has \(signer.role.rawValue)"
            )
        }
        return signer
    }
}
