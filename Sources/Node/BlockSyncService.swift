import ChainClient
import ChainCore
import Foundation
import Logging
import ServiceLifecycle
import Storage
import Synchronization

/// Block sync health of an observer, for `GET /v1/status`.
public struct SyncStatus: Sendable {
    /// The API base URLs blocks are fetched from.
    public var sources: [String] = []
    /// The source used last.
    public var source = ""
    /// When blocks were last fetched successfully (even none), unix ms; 0 before the first fetch.
    public var lastFetchAt: Int64 = 0
    /// When the last block was committed through sync, unix ms.
    public var lastBlockAt: Int64 = 0
    /// Blocks committed through sync since the node started.
    public var blocksSynced = 0
    /// The last failure, when the latest attempt failed.
    public var lastError: String?
    /// The height of the chain of the source used last, as last learnt (at least the height of
    /// the last block synced from it); 0 before the first fetch. Its distance to this node's
    /// height is the sync lag (`xiangchain_sync_lag_blocks`).
    public var sourceHeight: UInt64 = 0
    /// When epoch-change signatures were last fetched, unix ms.
    var lastEpochFetchAt: Int64 = 0
    /// Since when the current source has been ahead of this node without serving a final block.
    var aheadButNotFinalSince: Int64?
}

/// Where an observer fetches committed blocks: one source's `GET /v1/sync/blocks`.
public protocol BlockSource: Sendable {
    /// The encoded `BlockSyncBatch` of committed, final blocks from height `from` (at most `limit`).
    func blocks(from: UInt64, limit: Int) async throws -> [UInt8]
    /// Forwards a client's transaction submission (`POST /v1/txs` body) to a validator; throws the
    /// validator's `ChainError` when it refuses.
    func submit(_ body: [UInt8]) async throws
    /// The signatures the source holds of each validator-set change (`GET /v1/governance/epochs`).
    func epochSignatures() async throws -> [UInt64: [ValidatorSignature]]
    /// The height of the source's own chain (committed, final or not), nil when it cannot say.
    func height() async throws -> UInt64?
    /// A name for logs and status.
    var name: String { get }
    /// What the source knows of a transaction it may hold uncommitted (an observer forwards its
    /// clients' transactions and holds none of them until their block syncs); `unknown` when it
    /// cannot say. Throws when the source cannot be reached.
    func waitingStatus(of txid: Hash256) async throws -> UpstreamTransaction
}

/// A sync source's answer about a transaction this node does not hold.
public enum UpstreamTransaction: Sendable, Equatable {
    /// Waiting in the source's mempool, or committed there and not yet synced here.
    case pending
    /// Dropped by the source for age (`tx_expired`).
    case expired
    /// Not known to the source.
    case unknown
}

extension BlockSource {
    /// Sources that cannot say (in-process test sources).
    public func waitingStatus(of txid: Hash256) async throws -> UpstreamTransaction { .unknown }
}

/// A validator's HTTP API as a block source.
public struct HTTPBlockSource: BlockSource {
    let client: ChainClient

    /// A source at `base`; fails `bad_config` for anything but an http(s) URL.
    public init(_ base: String, timeout: Duration = .seconds(10)) throws(ChainError) {
        client = try ChainClient(base, timeout: timeout)
    }

    public var name: String { client.baseURL.absoluteString }

    public func height() async throws -> UInt64? {
        try await client.status()["height"]?.int64Value.map { UInt64(max(0, $0)) }
    }

    public func blocks(from: UInt64, limit: Int) async throws -> [UInt8] {
        try await client.syncBlocks(from: from, limit: limit)
    }

    public func submit(_ body: [UInt8]) async throws {
        _ = try await client.submit(envelope: body)
    }

    public func waitingStatus(of txid: Hash256) async throws -> UpstreamTransaction {
        do {
            // Committed there: this node syncs its block shortly, so it is still pending here.
            return try await client.transaction(txid.hex) == nil ? .unknown : .pending
        } catch let e as ChainError where e.code == .txExpired {
            return .expired
        }
    }

    public func epochSignatures() async throws -> [UInt64: [ValidatorSignature]] {
        var out: [UInt64: [ValidatorSignature]] = [:]
        for e in try await client.get("/v1/governance/epochs")["epochs"]?.arrayValue?.prefix(1024) ?? [] {
            guard let n = e["epoch"]?.int64Value, n > 0, let list = e["change"]?["signatures"]?.arrayValue else { continue }
            out[UInt64(n)] = list.prefix(1024).compactMap { s in
                guard let v = s["validator"]?.stringValue, v.utf8.count <= 128,
                    let b = s["signature"]?.stringValue.flatMap({ Data(base64Encoded: $0) }), b.count <= 256
                else { return nil }
                return ValidatorSignature(validator: v, signature: [UInt8](b))
            }
        }
        return out
    }
}

/// An observer's block sync, as a service: fetches committed blocks with their finality
/// signatures from its sources in turn, verifies each (quorum of validator signatures, link to the
/// stored tip, transaction root, and agreement of this node's own execution with the certified
/// state hash) and commits it. A source that fails or serves a bad block is left for the next.
public final class BlockSyncService: Service, Sendable {
    let node: ChainNode
    /// The sources, in the order they are tried.
    public let sources: [any BlockSource]
    let interval: Duration
    let batch: Int
    /// How long a source may stay ahead of this node without serving a final block.
    let stuckPatience: Duration
    let logger: Logger
    let statusBox: Mutex<SyncStatus>

    /// Creates the sync of `node` from `sources`.
    public init(
        node: ChainNode, sources: [any BlockSource], interval: Duration, batch: Int = 64, stuckPatience: Duration = .seconds(5),
        logger: Logger
    ) {
        self.stuckPatience = stuckPatience
        self.node = node
        self.sources = sources
        self.interval = interval
        self.batch = batch
        self.logger = logger
        statusBox = Mutex(SyncStatus(sources: sources.map(\.name)))
    }

    /// Sync health now.
    public var status: SyncStatus { statusBox.withLock { $0 } }

    public func run() async throws {
        guard !sources.isEmpty else { throw ChainError(.badConfig, "an observer needs at least one sync source") }
        var index = 0
        var failures = 0
        logger.info("block sync started", metadata: ["sources": "\(sources.map(\.name))"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let source = sources[index % sources.count]
            var committed = 0
            do {
                committed = try await syncOnce(from: source)
                failures = 0
            } catch {
                failures += 1
                index += 1
                let text = (error as? ChainError).map { "\($0.code): \($0.message)" } ?? "\(error)"
                statusBox.withLock { $0.lastError = "\(source.name): \(text)" }
                logger.warning("block sync failed", metadata: ["source": "\(source.name)", "reason": "\(text)"])
            }
            if committed == 0 {
                // Caught up, or the source failed: wait (longer after repeated failures), but wake for shutdown.
                let pause = failures == 0 ? interval : min(interval * (1 << min(failures, 4)), .seconds(5))
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            }
        }
        logger.info("block sync stopped")
    }

    /// Fetches and commits one batch from `source`; returns how many blocks were committed.
    func syncOnce(from source: any BlockSource) async throws -> Int {
        let from = (try node.store.tip()?.height ?? 0) + 1
        let bytes = try await source.blocks(from: from, limit: batch)
        let blocks = try BlockSyncBatch.decode(
            bytes, maxTxs: node.config.maxBlockTxs, maxBlockBytes: node.config.maxBlockBytes + (1 << 20), hasher: node.hasher)
        statusBox.withLock {
            $0.source = source.name
            $0.lastFetchAt = ChainNode.nowMillis()
            $0.lastError = nil
        }
        var done = 0
        for b in blocks {
            try node.commitCertified(b)
            done += 1
            statusBox.withLock {
                $0.blocksSynced += 1
                $0.lastBlockAt = ChainNode.nowMillis()
                $0.sourceHeight = max($0.sourceHeight, b.header.height)
            }
        }
        if done > 0 { logger.debug("synced blocks", metadata: ["to": "\(from + UInt64(done) - 1)", "source": "\(source.name)"]) }
        if done == 0 {
            let sourceHeight = try? await source.height()
            statusBox.withLock { $0.sourceHeight = sourceHeight ?? $0.sourceHeight }
            try checkSourceIsNotStuck(source, sourceHeight: sourceHeight, ours: from - 1)
            try await fetchEpochSignatures(from: source)
        } else {
            statusBox.withLock { $0.aheadButNotFinalSince = nil }
        }
        return done
    }

    /// A source that holds blocks above this node's height but serves none of them (they lack a
    /// quorum of finality signatures: a validator that restarted or started late) is no use: past
    /// `stuckPatience` it counts as failed, so the status is no longer healthy and the next source
    /// is tried. (A block just committed is briefly not final; hence the patience.)
    func checkSourceIsNotStuck(_ source: any BlockSource, sourceHeight: UInt64?, ours: UInt64) throws(ChainError) {
        let now = ChainNode.nowMillis()
        guard let sourceHeight, sourceHeight > ours else {
            statusBox.withLock { $0.aheadButNotFinalSince = nil }
            return
        }
        let since = statusBox.withLock { s -> Int64 in
            if s.aheadButNotFinalSince == nil { s.aheadButNotFinalSince = now }
            return s.aheadButNotFinalSince ?? now
        }
        let patience = Int64(
            stuckPatience.components.seconds * 1000 + stuckPatience.components.attoseconds / 1_000_000_000_000_000)
        guard now - since >= patience else { return }
        statusBox.withLock { $0.aheadButNotFinalSince = nil }
        throw ChainError(
            .syncFailed,
            "source is at height \(sourceHeight) but serves no final block above \(ours): its blocks lack finality signatures")
    }

    /// Validators gossip their signatures of validator-set changes among themselves; an observer
    /// (caught up) fetches the ones it lacks from its source, each checked against the set before
    /// the change, at most every 5 s, so the proofs it serves carry them.
    func fetchEpochSignatures(from source: any BlockSource) async throws {
        let now = ChainNode.nowMillis()
        guard statusBox.withLock({ now - $0.lastEpochFetchAt >= 5_000 }) else { return }
        let lacking = try node.epochsLackingSignatures()
        guard !lacking.isEmpty else { return }
        statusBox.withLock { $0.lastEpochFetchAt = now }
        let held = try await source.epochSignatures()
        for epoch in lacking {
            for signature in held[epoch] ?? [] { try node.addEpochSignature(signature, epoch: epoch) }
        }
    }
}
