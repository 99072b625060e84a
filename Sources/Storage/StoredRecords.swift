import ChainCore

/// A committed transaction with its place in the chain, its signer and its outcome.
public struct StoredTransaction: Sendable, Hashable {
    /// The transaction as signed.
    public let transaction: SignedTransaction
    /// Block height.
    public let height: UInt64
    /// Position in the block.
    public let index: Int
    /// Contract called.
    public let contract: String
    /// Method called.
    public let method: String
    /// Signer organisation.
    public let signerOrg: String
    /// Signer role.
    public let signerRole: String
    /// Signer account name (certificate CN).
    public let signerSubject: String
    /// SHA-256 of the signer's certificate (DER): the key its certificate is stored under.
    public let certificateFingerprint: Hash256
    /// Outcome of execution: events, or the error that made it fail.
    public let result: TransactionResult

    /// Creates a record. `certificateFingerprint` must be the SHA-256 of the transaction's
    /// certificate, when the caller has it already (a verified signer's); nil: hashed here.
    public init(
        transaction: SignedTransaction, height: UInt64, index: Int, contract: String, method: String,
        signerOrg: String, signerRole: String, signerSubject: String, certificateFingerprint: Hash256? = nil,
        result: TransactionResult
    ) {
        if let certificateFingerprint {
            assert(
                certificateFingerprint == Hash256.sha256(transaction.signerCertificate),
                "the fingerprint given is not the transaction's certificate's")
            self.certificateFingerprint = certificateFingerprint
        } else {
            self.certificateFingerprint = Hash256.sha256(transaction.signerCertificate)
        }
        self.transaction = transaction
        self.height = height
        self.index = index
        self.contract = contract
        self.method = method
        self.signerOrg = signerOrg
        self.signerRole = signerRole
        self.signerSubject = signerSubject
        self.result = result
    }
}

/// Where a committed transaction is and how it ended: what stays of it after its block's bodies
/// are pruned (enough for replay checks, commit outcomes and inclusion proofs).
public struct TransactionPlace: Sendable, Hashable {
    /// Height of its block.
    public let height: UInt64
    /// Position in its block.
    public let index: Int
    /// Contract called.
    public let contract: String
    /// Method called.
    public let method: String
    /// Its result (error code and message, events).
    public let result: TransactionResult
}

/// A committed block as stored: header, finality signatures, transaction ids, and the outcome of
/// executing it (result root and state hash after it).
public struct StoredBlock: Sendable, Hashable {
    /// The header.
    public let header: BlockHeader
    /// The header's hash.
    public let hash: Hash256
    /// Finality signatures.
    public let signatures: [ValidatorSignature]
    /// Transaction ids in block order.
    public let txids: [Hash256]
    /// Root over this block's results.
    public let resultRoot: Hash256
    /// State hash after executing this block.
    public let stateHash: Hash256
}

/// Everything one committed block changes, written in one SQLite transaction.
public struct BlockCommit: Sendable {
    /// The block.
    public let block: Block
    /// One record per transaction, in block order.
    public let transactions: [StoredTransaction]
    /// State writes of the successful transactions, last write per key.
    public let writes: [StateWrite]
    /// Root over the block's results.
    public let resultRoot: Hash256
    /// State hash after the block.
    public let stateHash: Hash256
    /// Under BFT: the consensus block this chain block comes from (kept for sync and restarts).
    public let consensusBlock: (id: Hash256, height: UInt64, bytes: [UInt8])?
    /// The transactions' timestamps, in the same order (read from their bodies when not given).
    public let timestamps: [Int64]
    /// Finality signatures of blocks already stored, written in the same SQLite transaction
    /// (`BlockStore.addSignatures`) instead of a transaction and an `fsync` of their own.
    public let finality: [(height: UInt64, signature: ValidatorSignature)]

    /// Creates a commit. `timestamps` are the transactions' (each body's `timestamp`), in order;
    /// when not given or not one per transaction, they are read from the bodies.
    public init(
        block: Block, transactions: [StoredTransaction], writes: [StateWrite], resultRoot: Hash256, stateHash: Hash256,
        consensusBlock: (id: Hash256, height: UInt64, bytes: [UInt8])? = nil, timestamps: [Int64]? = nil,
        finality: [(height: UInt64, signature: ValidatorSignature)] = []
    ) {
        self.block = block
        self.finality = finality
        self.transactions = transactions
        if let timestamps, timestamps.count == transactions.count {
            self.timestamps = timestamps
        } else {
            // A body that does not parse has no known timestamp: the replay filter treats it as
            // the highest possible (every later check of older timestamps reads the database).
            self.timestamps = transactions.map { (try? TransactionBody.parse($0.transaction.body).timestamp) ?? .max }
        }
        self.writes = writes
        self.resultRoot = resultRoot
        self.stateHash = stateHash
        self.consensusBlock = consensusBlock
    }
}

/// The head of the stored chain.
public struct ChainTip: Sendable, Hashable {
    /// Height of the last committed block (0: only genesis).
    public let height: UInt64
    /// Its hash (zero at genesis).
    public let hash: Hash256
    /// Its timestamp (0 at genesis).
    public let timestamp: Int64
    /// Root over its results.
    public let resultRoot: Hash256
    /// State hash after it.
    public let stateHash: Hash256

    /// Creates a tip.
    public init(height: UInt64, hash: Hash256, timestamp: Int64, resultRoot: Hash256, stateHash: Hash256) {
        self.height = height
        self.hash = hash
        self.timestamp = timestamp
        self.resultRoot = resultRoot
        self.stateHash = stateHash
    }
}
