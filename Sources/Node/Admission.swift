import ChainClient
import ChainCore
import Execution
import Foundation
import Identity
import Storage
import Synchronization

/// The one way a transaction enters the chain through this node, whoever brings it (a client's
/// `POST /v1/txs`, a batch, a console session, the node's own gateway for consumers): a validator
/// admits it into its mempool; an observer checks it as any node would and forwards it to the
/// first validator that takes it, then sees the commit through block sync.
public struct Admission: Sendable {
    /// The node.
    public let node: ChainNode
    /// An observer's validators; nil on a validator.
    public let upstream: [any BlockSource]?

    /// The admission of `node`; `upstream` are an observer's sync sources.
    public init(node: ChainNode, upstream: [any BlockSource]?) {
        self.node = node
        self.upstream = upstream
    }

    /// Admits `tx`. `envelope` is the client's `POST /v1/txs` body when there is one (an observer
    /// forwards those bytes unchanged).
    public func submit(_ tx: SignedTransaction, envelope: [UInt8]? = nil) async throws {
        try await submit([(tx, envelope)])[0].get()
    }

    /// Admits each of `txs` as `submit(_:envelope:)` does, in order, and says how each went. A
    /// validator checks their signatures as one batch (`ChainNode.submit` for many); an observer
    /// forwards them one by one.
    public func submit(_ txs: [(tx: SignedTransaction, envelope: [UInt8]?)]) async -> [Result<Void, any Error>] {
        // Timed from before admission: on a validator the block can commit before it returns.
        let timed = txs.map { node.metrics.admitted($0.tx.id) }
        var outcomes: [Result<Void, any Error>] = []
        if let upstream, node.isObserver {
            // A node outside the validator set in force hands transactions to a validator.
            for item in txs {
                do {
                    try await forward(item.tx, envelope: item.envelope, to: upstream)
                    outcomes.append(.success(()))
                } catch {
                    outcomes.append(.failure(error))
                }
            }
        } else {
            outcomes = node.submit(txs.map(\.tx)).map { outcome in outcome.map { _ in () }.mapError { $0 } }
        }
        for (outcome, (item, timed)) in zip(outcomes, zip(txs, timed)) {
            switch outcome {
            case .success: node.metrics.admission(nil)
            case .failure(let error):
                if timed { node.metrics.forget(item.tx.id) }
                node.metrics.admission(error)
            }
        }
        return outcomes
    }

    /// An observer's admission: checks `tx` as any node would and hands it to the first of
    /// `upstream` that takes it.
    func forward(_ tx: SignedTransaction, envelope: [UInt8]?, to upstream: [any BlockSource]) async throws {
        let verified = try node.verifier.verify(tx, nowMillis: ChainNode.nowMillis())
        guard try node.store.committedIDs(among: [(tx.id, verified.body.timestamp)]).isEmpty else {
            throw ChainError(.duplicateTx, "transaction \(tx.id.hex) is already committed")
        }
        let bytes = try envelope ?? Array(JSONEncoder().encode(TransactionSubmission(tx)))
        var last: (any Error)?
        for source in upstream {
            do {
                try await source.submit(bytes)
                node.forwarded.add(tx.id, nowMillis: ChainNode.nowMillis(), keepMillis: 2 * node.config.timestampToleranceMs)
                return
            } catch let e as ChainError where Self.isFinal(e) {
                // A validator's own refusal is the answer; only unreachable sources are skipped.
                throw e
            } catch {
                last = error
            }
        }
        throw ChainError(.upstreamUnavailable, "no validator took the transaction: \(last.map { "\($0)" } ?? "no sources")")
    }

    /// On an observer, what its validators know of a transaction it forwarded (it sees them only
    /// once their block syncs). Only transactions this node forwarded lately are asked about, so
    /// a stranger's reads of ids it never saw cost nothing upstream. The first source that
    /// answers decides (validators share their waiting transactions by gossip), so one lookup
    /// here costs at most one lookup upstream unless sources are unreachable. Nil on a validator,
    /// for a transaction not forwarded here, or when no source answers.
    public func upstreamStatus(of txid: Hash256) async -> UpstreamTransaction? {
        guard let upstream, node.isObserver, node.forwarded.contains(txid, nowMillis: ChainNode.nowMillis()) else { return nil }
        for source in upstream {
            if let answer = try? await source.waitingStatus(of: txid) { return answer }
        }
        return nil
    }

    /// Registers `tx` for its commit, admits it, and waits up to `timeout`; nil when it is not
    /// committed by then; `tx_expired` as soon as the mempool drops it for age.
    public func submitAndWait(_ tx: SignedTransaction, envelope: [UInt8]? = nil, timeout: Duration) async throws
        -> CommitOutcome?
    {
        let ticket = node.notifier.register(tx.id)
        do {
            try await submit(tx, envelope: envelope)
        } catch {
            node.notifier.cancel(ticket)
            throw error
        }
        return try await node.notifier.wait(ticket, timeout: timeout)
    }

    /// A refusal that another validator would repeat (a client error), as opposed to a failure to reach it.
    static func isFinal(_ e: ChainError) -> Bool {
        switch e.code.kind {
        case .unavailable, .peer, .fault: false
        default: true
        }
    }
}

/// The transactions an observer forwarded lately, each kept for a given time and at most
/// `capacity` of them (the oldest go first): an outsider's submissions cannot grow it without
/// bound, and a transaction older than twice the timestamp tolerance has long been committed or
/// dropped upstream.
public final class ForwardedTransactions: Sendable {
    let log: Mutex<RecentIDs>

    /// An empty record holding at most `capacity` ids.
    public init(capacity: Int = 200_000) { log = Mutex(RecentIDs(capacity: capacity)) }

    /// Records `id`, forwarded at `nowMillis`, for `keepMillis`.
    public func add(_ id: Hash256, nowMillis: Int64, keepMillis: Int64) {
        log.withLock { $0.insert(id, until: nowMillis + keepMillis, nowMillis: nowMillis) }
    }

    /// Whether `id` was forwarded and is still kept at `nowMillis`.
    public func contains(_ id: Hash256, nowMillis: Int64) -> Bool {
        log.withLock { $0.contains(id, nowMillis: nowMillis) }
    }

    /// Ids held now.
    public var count: Int { log.withLock { $0.count } }
}
