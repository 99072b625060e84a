import ChainCore
import Foundation
import Identity

/// A transaction whose body parsed, whose certificate chains to a consortium CA and whose
/// signature verified: ready for the mempool and for execution.
///
/// A class: it is immutable, and the mempool, proposals, pending blocks, execution and the commit
/// each hold the same one — a copy is one reference count, not one for each of its strings and
/// buffers (copying and destroying the struct took ~3 % of a validator at the peak).
public final class VerifiedTransaction: Sendable {
    /// The transaction as signed.
    public let transaction: SignedTransaction
    /// Its parsed body.
    public let body: TransactionBody
    /// Its signer.
    public let signer: SignerIdentity

    /// SHA-256 of its signer's certificate (DER), for storage: the signer's, computed when the
    /// certificate was verified.
    public var certificateFingerprint: Hash256 { signer.certificateHash }

    /// The id.
    public var id: Hash256 { transaction.id }

    /// Wraps parts that the caller has already verified.
    public init(transaction: SignedTransaction, body: TransactionBody, signer: SignerIdentity) {
        self.transaction = transaction
        self.body = body
        self.signer = signer
    }
}

/// Admission checks for a transaction, in the order a client's mistakes are most usefully reported.
public struct TransactionVerifier: Sendable {
    /// The chain id transactions must name.
    public let chainId: String
    /// Certificates and roles under the configuration in force now.
    public var membership: MembershipService { memberships.service }
    let memberships: MembershipCache
    /// Largest accepted body, bytes.
    public let maxBodyBytes: Int
    /// How far a transaction's timestamp may be from the node's clock, milliseconds.
    public let timestampTolerance: Int64
    /// The earliest transaction timestamp taken at all (`Int64.min`: none). A node started from a
    /// state snapshot knows the ids committed before it only for transactions at least this recent
    /// (`SnapshotManifest`), so it refuses older ones rather than admit a transaction again.
    public let earliestTimestamp: Int64

    /// The contracts, for the admission check of contract, method and role.
    public let registry: ContractRegistry

    /// Creates a verifier.
    public init(
        chainId: String, memberships: MembershipCache, registry: ContractRegistry, maxBodyBytes: Int = 128 * 1024,
        timestampTolerance: Int64 = 600_000, earliestTimestamp: Int64 = Int64.min
    ) {
        self.earliestTimestamp = earliestTimestamp
        self.registry = registry
        self.chainId = chainId
        self.memberships = memberships
        self.maxBodyBytes = maxBodyBytes
        self.timestampTolerance = timestampTolerance
    }

    /// Verifies `tx` against the node clock `nowMillis`.
    public func verify(_ tx: SignedTransaction, nowMillis: Int64) throws(ChainError) -> VerifiedTransaction {
        let membership = self.membership
        let (body, signer, publicKey) = try identify(tx, nowMillis: nowMillis, membership: membership)
        // `malformed_signature` when the bytes are not a signature of the chain's suite at all (an
        // Ed25519 signature on an SM2 chain), `bad_signature` when they do not verify.
        try membership.suite.check(
            signature: tx.signature, message: tx.body, publicKey: publicKey, what: "the transaction's", ed25519: .cofactored)
        return try authorize(tx, body: body, signer: signer)
    }

    /// Verifies each of `txs` as `verify(_:nowMillis:)` does, with the same outcomes, checking
    /// their signatures together (`CryptoSuite.verify(batch:)`). The batch's verdict on each
    /// signature is final (a failing group is checked signature by signature inside it): a
    /// signature that fails there gets the error `CryptoSuite.check` gives, without being verified
    /// again.
    public func verify(_ txs: [SignedTransaction], nowMillis: Int64) -> [Result<VerifiedTransaction, ChainError>] {
        let membership = self.membership
        var outcomes: [Result<VerifiedTransaction, ChainError>?] = Array(repeating: nil, count: txs.count)
        var identified: [(index: Int, body: TransactionBody, signer: SignerIdentity, publicKey: [UInt8])] = []
        for (index, tx) in txs.enumerated() {
            do throws(ChainError) {
                let (body, signer, publicKey) = try identify(tx, nowMillis: nowMillis, membership: membership)
                identified.append((index, body, signer, publicKey))
            } catch {
                outcomes[index] = .failure(error)
            }
        }
        let verdicts = membership.suite.verify(
            batch: identified.map { (txs[$0.index].signature, txs[$0.index].body, $0.publicKey) })
        for (item, verifies) in zip(identified, verdicts) {
            let tx = txs[item.index]
            outcomes[item.index] = Result { () throws(ChainError) -> VerifiedTransaction in
                guard verifies else {
                    throw membership.suite.signatureFailure(signature: tx.signature, what: "the transaction's")
                }
                return try authorize(tx, body: item.body, signer: item.signer)
            }
        }
        return outcomes.map { $0! }
    }

    /// The checks before the signature's: size, body, chain, time, certificate. Returns the parsed
    /// body, the signer and the key its signature must verify with.
    private func identify(_ tx: SignedTransaction, nowMillis: Int64, membership: MembershipService) throws(ChainError)
        -> (TransactionBody, SignerIdentity, [UInt8])
    {
        guard tx.body.count <= maxBodyBytes else {
            throw ChainError(.tooLarge, "body of \(tx.body.count) bytes exceeds the limit of \(maxBodyBytes)")
        }
        let body = try TransactionBody.parse(tx.body)
        guard body.chain == chainId else {
            throw ChainError(.wrongChain, "transaction is for chain \"\(body.chain)\", this is \"\(chainId)\"")
        }
        guard abs(body.timestamp - nowMillis) <= timestampTolerance else {
            throw ChainError(
                .staleTimestamp,
                "timestamp \(body.timestamp) is more than \(timestampTolerance / 1000) s from the node clock \(nowMillis)")
        }
        guard body.timestamp >= earliestTimestamp else {
            throw ChainError(
                .staleTimestamp,
                "timestamp \(body.timestamp) is before \(earliestTimestamp), the earliest this node can tell apart from a transaction committed before the state snapshot it started from"
            )
        }
        let (signer, publicKey) = try membership.verify(
            certificateDER: tx.signerCertificate, at: Date(timeIntervalSince1970: Double(nowMillis) / 1000))
        return (body, signer, publicKey)
    }

    /// The checks after the signature's: the contract, its method, and the signer's role.
    private func authorize(_ tx: SignedTransaction, body: TransactionBody, signer: SignerIdentity) throws(ChainError)
        -> VerifiedTransaction
    {
        guard let contract = registry[body.contract] else {
            throw ChainError(.unknownContract, "no contract named \"\(body.contract)\"")
        }
        guard let roles = contract.allowedRoles(method: body.method) else {
            throw ChainError(.unknownMethod, "contract \(body.contract) has no method \"\(body.method)\"")
        }
        guard roles.contains(signer.role) else {
            throw ChainError(
                .roleNotAllowed,
                "\(body.contract).\(body.method) needs role \(roles.map(\.rawValue).sorted().joined(separator: " or ")); signer has \(signer.role.rawValue)"
            )
        }
        return VerifiedTransaction(transaction: tx, body: body, signer: signer)
    }
}
