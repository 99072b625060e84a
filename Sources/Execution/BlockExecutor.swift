import ChainCore
import Foundation
import Identity
import Storage

/// What executing one block produced: everything `BlockStore.commit` needs besides the block.
public struct ExecutionOutcome: Sendable {
    /// One record per transaction, in block order.
    public let transactions: [StoredTransaction]
    /// Net state writes of the block (last write per key, in first-write order).
    public let writes: [StateWrite]
    /// Root over the results.
    public let resultRoot: Hash256
    /// State hash after the block.
    public let stateHash: Hash256
}

/// Executes a block's transactions in order against committed state, deterministically.
///
/// A transaction that throws a `ChainError` is recorded as failed with that code and keeps none
/// of its writes; unknown contracts and methods fail the same way. A state read fault aborts
/// the whole block (rethrown), since recording it would make nodes diverge.
public struct BlockExecutor: Sendable {
    /// The contracts.
    public let registry: ContractRegistry
    /// The chain configuration in force for each block; nil: every admitted signer executes (tests
    /// of contracts alone).
    public let configSource: ConfigSource?
    /// The chain's hash function, for the result root and the state hash.
    public let hasher: ChainHasher

    /// Creates an executor for a chain hashing with `hasher`.
    public init(registry: ContractRegistry, configSource: ConfigSource? = nil, hasher: ChainHasher) {
        self.registry = registry
        self.configSource = configSource
        self.hasher = hasher
    }

    /// Executes `transactions` as block `height` with timestamp `time`.
    public func execute(
        _ transactions: [VerifiedTransaction], height: UInt64, time: Int64, state: any StateReader, previousStateHash: Hash256
    ) throws -> ExecutionOutcome {
        let blockState = BlockState(committed: state)
        // Signers are checked against the configuration as of the start of the block: a
        // certificate revoked, or a role withdrawn from its org, by a proposal that passed in an
        // earlier block fails here even when a node admitted it before.
        let config = try configSource.map { source in try source.config(in: state) }
        var membership: MembershipService?
        if let configSource, let config { membership = try configSource.membership(for: config) }
        let blockDate = Date(timeIntervalSince1970: Double(time) / 1000)
        // The last signer's certificate and what membership said of it: one configuration and one
        // time hold for the whole block, so a run of transactions from one signer is checked once.
        var lastSigner: (certificate: [UInt8], failure: ChainError?)?
        var order: [String] = []
        var records: [StoredTransaction] = []
        records.reserveCapacity(transactions.count)
        for (index, vtx) in transactions.enumerated() {
            let ctx = ExecutionContext(
                contract: vtx.body.contract, caller: vtx.signer, txid: vtx.id, height: height, blockTime: time,
                blockState: blockState, chainConfig: config, natives: registry)
            var failure: ChainError?
            if let membership {
                let certificate = vtx.transaction.signerCertificate
                if let last = lastSigner, last.certificate == certificate {
                    failure = last.failure
                } else {
                    do {
                        _ = try membership.verify(certificateDER: certificate, at: blockDate)
                    } catch {
                        failure = error
                    }
                    lastSigner = (certificate, failure)
                }
            }
            if failure != nil {
                // Refused by the configuration: the contract does not run.
            } else if let contract = registry[vtx.body.contract] {
                do {
                    try contract.execute(method: vtx.body.method, args: vtx.body.args, context: ctx)
                } catch let e as ChainError {
                    failure = e
                } catch let fault as StateReadFault {
                    throw fault
                } catch {
                    // Only ChainError messages are deterministic; the text of any other error may
                    // differ between builds, and the message is hashed into the result root.
                    failure = ChainError(.contractError, "the contract raised an error that is not a ChainError")
                }
            } else {
                failure = ChainError(.unknownContract, "no contract named \"\(vtx.body.contract)\"")
            }
            if failure == nil, ctx.writeOrder.contains(where: StateKey.holdsNUL) {
                failure = ChainError(.badStateKey, "a state key holds a NUL character (U+0000)")
            }
            if failure == nil {
                for k in ctx.writeOrder {
                    let key = StateKey(k)
                    if blockState.overlay.updateValue(ctx.writes[key]!, forKey: key) == nil { order.append(k) }
                }
            }
            let result = TransactionResult(
                txid: vtx.id, error: failure, events: failure == nil ? ctx.events : [],
                value: failure == nil ? ctx.resultValue : nil)
            records.append(
                StoredTransaction(
                    transaction: vtx.transaction, height: height, index: index, contract: vtx.body.contract,
                    method: vtx.body.method, signerOrg: vtx.signer.org, signerRole: vtx.signer.role.rawValue,
                    signerSubject: vtx.signer.subject, certificateFingerprint: vtx.certificateFingerprint,
                    result: result))
        }
        let writes = order.map { StateWrite(key: $0, value: blockState.overlay[StateKey($0)]!) }
        return ExecutionOutcome(
            transactions: records, writes: writes, resultRoot: TransactionResult.root(records.map(\.result), hasher: hasher),
            stateHash: StateHash.next(previous: previousStateHash, height: height, writes: writes, hasher: hasher))
    }
}
