import ChainCore
import Foundation
import HTTPTypes
import Identity
import Synchronization

/// Authenticates a signed HTTP request (`docs/api-auth.md`): a consortium certificate, a
/// timestamp near the node clock, a fresh nonce, and a signature with the chain's suite over the
/// chain, the node, the request line, the timestamp and the nonce.
///
/// Headers: `X-XC-Certificate` (standard base64 of the certificate's DER bytes), `X-XC-Timestamp`
/// (unix milliseconds, decimal), `X-XC-Nonce` (16–64 of `A–Z a–z 0–9 - _`), `X-XC-Signature`
/// (standard base64 of the signature over `requestMessage`). Checks, in order: all present
/// (`unauthenticated`), timestamp within the window (`stale_request`), certificate chains to an
/// org CA and is valid now (`bad_certificate`, `unknown_ca`, `certificate_expired`, …), signature
/// (`bad_signature`), nonce not seen by this node within the window (`replayed_request`), role
/// (`forbidden`). A request signed for one node or chain does not verify on another, and one
/// accepted request cannot be sent again.
public struct RequestAuthenticator: Sendable {
    /// Domain separation tag, the first line of the signed message.
    public static let domain = "XIANGCHAIN-REQUEST-V2"
    /// Header carrying the base64 DER certificate.
    public static let certificateHeader = HTTPField.Name("X-XC-Certificate")!
    /// Header carrying the unix-millisecond timestamp.
    public static let timestampHeader = HTTPField.Name("X-XC-Timestamp")!
    /// Header carrying the request's nonce.
    public static let nonceHeader = HTTPField.Name("X-XC-Nonce")!
    /// Header carrying the base64 signature.
    public static let signatureHeader = HTTPField.Name("X-XC-Signature")!
    /// Largest accepted certificate header, characters.
    static let maxCertificateHeader = 16 * 1024

    /// Certificates and roles of the consortium, under the configuration in force.
    public var membership: MembershipService { memberships.service }
    let memberships: MembershipCache
    /// Largest distance between the request's timestamp and the node clock, milliseconds.
    public let windowMillis: Int64
    /// The chain and the node a request must be signed for.
    public let chainId: String
    public let nodeId: String
    let nonces: NonceCache

    /// Creates an authenticator for `nodeId` of `chainId` (default window ±5 minutes, at most
    /// `maxNonces` accepted requests remembered at once).
    public init(
        memberships: MembershipCache, chainId: String, nodeId: String, windowMillis: Int64 = 300_000, maxNonces: Int = 100_000
    ) {
        self.memberships = memberships
        self.chainId = chainId
        self.nodeId = nodeId
        self.windowMillis = windowMillis
        nonces = NonceCache(capacity: maxNonces)
    }

    /// The bytes a client signs: `domain \n chain \n node \n METHOD \n path-with-query \n timestamp \n nonce`,
    /// UTF-8, no trailing newline. `target` is the request target exactly as sent (path and query,
    /// percent-encoding untouched).
    public static func requestMessage(
        chain: String, node: String, method: String, target: String, timestamp: String, nonce: String
    ) -> [UInt8] {
        Array("\(domain)\n\(chain)\n\(node)\n\(method)\n\(target)\n\(timestamp)\n\(nonce)".utf8)
    }

    /// The headers that sign `method target` for node `node` of chain `chain` as `identity` at
    /// `timestamp` (unix ms), with a fresh random nonce unless one is given; for clients and tests.
    public static func headers(
        signing identity: SigningIdentity, chain: String, node: String, method: String, target: String, timestamp: Int64,
        nonce: String = UUID().uuidString
    ) throws -> HTTPFields {
        let signature = try identity.key.sign(
            requestMessage(chain: chain, node: node, method: method, target: target, timestamp: String(timestamp), nonce: nonce))
        var h = HTTPFields()
        h[certificateHeader] = Data(identity.certificateDER).base64EncodedString()
        h[timestampHeader] = String(timestamp)
        h[nonceHeader] = nonce
        h[signatureHeader] = Data(signature).base64EncodedString()
        return h
    }

    static func isNonce(_ s: String) -> Bool {
        (16...64).contains(s.utf8.count)
            && s.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F
            }
    }

    /// Verifies the signed request `method target` with `headers` at node time `nowMillis` and returns its signer.
    public func authenticate(
        method: String, target: String, headers: HTTPFields, nowMillis: Int64
    ) throws(ChainError) -> SignerIdentity {
        guard let certB64 = headers[Self.certificateHeader], let stamp = headers[Self.timestampHeader],
            let nonce = headers[Self.nonceHeader], let sigB64 = headers[Self.signatureHeader]
        else {
            throw ChainError(
                .unauthenticated,
                "this route needs a signed request: X-XC-Certificate, X-XC-Timestamp, X-XC-Nonce and X-XC-Signature (docs/api-auth.md)"
            )
        }
        guard stamp.utf8.count <= 16, stamp.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let time = Int64(stamp) else {
            throw ChainError(.unauthenticated, "X-XC-Timestamp must be unix milliseconds")
        }
        guard Self.isNonce(nonce) else {
            throw ChainError(.unauthenticated, "X-XC-Nonce must be 16–64 characters of A–Z, a–z, 0–9, - and _")
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
        let message = Self.requestMessage(
            chain: chainId, node: nodeId, method: method, target: target, timestamp: stamp, nonce: nonce)
        guard sigB64.utf8.count <= 1024, let signature = Data(base64Encoded: sigB64),
            membership.suite.verify(signature: Array(signature), message: message, publicKey: publicKey)
        else {
            throw ChainError(
                .badSignature,
                "X-XC-Signature does not verify over the request for node \(nodeId) of chain \(chainId) with the certificate's key"
            )
        }
        // Only now, for a request that verifies, is its nonce remembered (until it could no
        // longer pass the timestamp check anyway).
        try nonces.use(nonce, signer: signer.certificateFingerprint, until: time + windowMillis, now: nowMillis)
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

/// Nonces of accepted signed requests, each kept until its request's timestamp leaves the window.
final class NonceCache: Sendable {
    struct State {
        var expiry: [String: Int64] = [:]
        var order: [(key: String, until: Int64)] = []
        var head = 0
    }
    let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Records `nonce` of `signer`; `replayed_request` when already recorded, `too_many_requests`
    /// when `capacity` requests are remembered (a flood of valid signed requests).
    func use(_ nonce: String, signer: String, until: Int64, now: Int64) throws(ChainError) {
        let key = signer + ":" + nonce
        try state.withLock { s throws(ChainError) in
            while s.head < s.order.count, s.order[s.head].until < now {
                if s.expiry[s.order[s.head].key] == s.order[s.head].until { s.expiry[s.order[s.head].key] = nil }
                s.head += 1
            }
            if s.head > 4096, s.head * 2 > s.order.count {
                s.order.removeFirst(s.head)
                s.head = 0
            }
            if let seen = s.expiry[key], seen >= now {
                throw ChainError(.replayedRequest, "this signed request was already accepted by this node (nonce \(nonce))")
            }
            guard s.expiry.count < capacity else {
                throw ChainError(.tooManyRequests, "too many signed requests in the last minutes; retry shortly")
            }
            s.expiry[key] = until
            s.order.append((key, until))
        }
    }
}
