import ChainCore
import Foundation
import Identity

/// A transaction whose body parsed, whose certificate chains to a consortium CA and whose
/// signature verified: ready for the mempool and for execution.
public struct VerifiedTransaction: Sendable {
    /// The transaction as signed.
    public let transaction: SignedTransaction
    /// Its parsed body.
    public let body: TransactionBody
    /// Its signer.
    public let signer: SignerIdentity

    /// The id.
    public var id: Hash256 { transaction.id }
}

/// Admission checks for a transaction, in the order a client's mistakes are most usefully reported.
public struct TransactionVerifier: Sendable {
    /// The chain id transactions must name.
    public let chainId: String
    /// Certificates and roles.
    public let membership: MembershipService
    /// Largest accepted body, bytes.
    public let maxBodyBytes: Int
    /// How far a transaction's timestamp may be from the node's clock, milliseconds.
    public let timestampTolerance: Int64

    /// Creates a verifier.
    public init(chainId: String, membership: MembershipService, maxBodyBytes: Int = 128 * 1024, timestampTolerance: Int64 = 600_000) {
        self.chainId = chainId
        self.membership = membership
        self.maxBodyBytes = maxBodyBytes
        self.timestampTolerance = timestampTolerance
    }

    /// Verifies `tx` against the node clock `nowMillis`.
    public func verify(_ tx: SignedTransaction, nowMillis: Int64) throws(ChainError) -> VerifiedTransaction {
        guard tx.body.count <= maxBodyBytes else {
            throw ChainError("too_large", "body of \(tx.body.count) bytes exceeds the limit of \(maxBodyBytes)")
        }
        let body = try TransactionBody.parse(tx.body)
        guard body.chain == chainId else {
            throw ChainError("wrong_chain", "transaction is for chain \"\(body.chain)\", this is \"\(chainId)\"")
        }
        guard abs(body.timestamp - nowMillis) <= timestampTolerance else {
            throw ChainError(
                "stale_timestamp",
                "timestamp \(body.timestamp) is more than \(timestampTolerance / 1000) s from the node clock \(nowMillis)")
        }
        let (signer, publicKey) = try membership.verify(
            certificateDER: tx.signerCertificate, at: Date(timeIntervalSince1970: Double(nowMillis) / 1000))
        guard membership.suite.verify(signature: tx.signature, message: tx.body, publicKey: publicKey) else {
            throw ChainError("bad_signature", "signature does not verify over the body bytes with the signer's key")
        }
        return VerifiedTransaction(transaction: tx, body: body, signer: signer)
    }
}
