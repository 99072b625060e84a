import ChainClient
import ChainCore
import Foundation
import Logging
import Storage

/// Where a joining node gets a state snapshot: a node's `GET /v1/snapshots/latest` offer and
/// its chunks.
public protocol SnapshotSource: Sendable {
    /// The source's newest snapshot offer (`ChainNode.snapshotOffer`), nil when it has none.
    func latestSnapshot() async throws -> JSONValue?
    /// Chunk `index` of the snapshot at `height`.
    func snapshotChunk(height: UInt64, index: Int) async throws -> [UInt8]
    /// A name for logs.
    var name: String { get }
}

/// A node's HTTP API as a snapshot source.
public struct HTTPSnapshotSource: SnapshotSource {
    let client: ChainClient

    /// A source at `base`; fails `bad_config` for anything but an http(s) URL.
    public init(_ base: String, timeout: Duration = .seconds(60)) throws(ChainError) {
        client = try ChainClient(base, timeout: timeout)
    }

    public var name: String { client.baseURL.absoluteString }

    public func latestSnapshot() async throws -> JSONValue? {
        do {
            return try await client.get("/v1/snapshots/latest")
        } catch let e as ChainError where e.code == .notFound {
            return nil
        }
    }

    public func snapshotChunk(height: UInt64, index: Int) async throws -> [UInt8] {
        try await client.snapshotChunk(height: height, index: index)
    }
}

/// Starts an empty node from the newest state snapshot its sources certify, instead of replaying
/// the chain from the genesis (`docs/proofs.md`, state snapshots).
///
/// The offers of all sources are read; signatures of the same manifest are merged across them
/// (each validator serves at least its own); the highest snapshot whose signatures are a quorum of
/// the validators in force at its height (the genesis set, followed through the epoch changes an
/// offer carries, each checked against the set before it) is taken. Its chunks are fetched from
/// the sources offering the same manifest, `parallel` requests at a time (each index first from
/// another source, a refused chunk from the next), each checked against the manifest where it
/// arrives and staged in `<download>` (a restarted join keeps the chunks already checked); the
/// load takes them in order as they come (`SnapshotChunkFeed`: at most `window` held), in one
/// SQLite transaction, building the database beside the empty one and renaming it over it
/// (`BlockStore.installSnapshot(atPath:)`). Block sync continues from the next height. A node that
/// already holds blocks is left as it is.
public struct SnapshotJoin: Sendable {
    let genesis: Genesis
    let databasePath: String
    let sources: [any SnapshotSource]
    let download: URL
    let logger: Logger
    let timestampToleranceMs: Int64
    /// Chunk requests in flight at most.
    let parallel: Int
    /// Chunks held in memory between the downloads and the load at most.
    let window: Int

    /// A join of the node whose database is `store`, chunks staged in `download`; the node's
    /// `timestampToleranceMs` (a snapshot must carry the committed ids of at least twice that);
    /// at most `parallel` chunk requests in flight and `window` chunks held (at least 1 each).
    public init(
        genesis: Genesis, store: BlockStore, sources: [any SnapshotSource], download: URL, logger: Logger,
        timestampToleranceMs: Int64 = 600_000, parallel: Int = 4, window: Int = 8
    ) {
        self.init(
            genesis: genesis, databasePath: store.path, sources: sources, download: download, logger: logger,
            timestampToleranceMs: timestampToleranceMs, parallel: parallel, window: window)
    }

    /// A join of the node whose database is at `databasePath`, which no connection should hold
    /// open meanwhile (the loaded database replaces it: `BlockStore.installSnapshot(atPath:)`;
    /// with one open, the load runs in place, writing the data twice); otherwise as above.
    public init(
        genesis: Genesis, databasePath: String, sources: [any SnapshotSource], download: URL, logger: Logger,
        timestampToleranceMs: Int64 = 600_000, parallel: Int = 4, window: Int = 8
    ) {
        self.databasePath = databasePath
        self.timestampToleranceMs = timestampToleranceMs
        self.parallel = max(1, parallel)
        self.window = max(1, window)
        self.genesis = genesis
        self.sources = sources
        self.download = download
        self.logger = logger
    }

    struct Offer {
        let manifest: SnapshotManifest
        let header: BlockHeader
        var signatures: [ValidatorSignature]
        var headerSignatures: [ValidatorSignature]
        let epochs: [JSONValue]
        var sources: [any SnapshotSource]
    }

    /// Loads the best certified snapshot; returns its height, or nil when the node already holds
    /// blocks. Throws `no_quorum` when no offer is certified, and the receiver's codes when the
    /// chunks do not match (nothing is loaded then).
    @discardableResult
    public func run() async throws -> UInt64? {
        guard try BlockStore.isEmpty(atPath: databasePath, hasher: genesis.suite.hasher) else { return nil }
        var offers: [Hash256: Offer] = [:]
        var lastError: (any Error)?
        for source in sources {
            do {
                guard let json = try await source.latestSnapshot() else { continue }
                let offer = try Self.parse(json, hasher: genesis.suite.hasher, source: source)
                guard offer.manifest.chainId == genesis.chainId else { continue }
                let digest = offer.manifest.digest(hasher: genesis.suite.hasher)
                if var known = offers[digest] {
                    known.signatures += offer.signatures
                    known.headerSignatures += offer.headerSignatures
                    known.sources.append(source)
                    offers[digest] = known
                } else {
                    offers[digest] = offer
                }
            } catch {
                lastError = error
                logger.warning("snapshot source failed", metadata: ["source": "\(source.name)", "reason": "\(error)"])
            }
        }
        var refusal: (any Error)? = lastError
        for offer in offers.values.sorted(by: { $0.manifest.height > $1.manifest.height }) {
            do {
                let check = try EpochChain.check(
                    genesisKeys: try genesis.validatorKeys(), suite: genesis.suite, chainId: genesis.chainId,
                    epochs: offer.epochs, height: offer.manifest.height)
                _ = try offer.manifest.verifyCertificate(offer.signatures, check: check)
                // Signers with a smaller tolerance carry too short a window for this node's rule.
                let needed = SnapshotManifest.committedSince(
                    blockTime: offer.header.timestamp, timestampToleranceMs: timestampToleranceMs)
                guard offer.manifest.committedSince <= needed else {
                    throw ChainError(
                        .snapshotMismatch,
                        "the snapshot carries the ids committed from \(offer.manifest.committedSince); this node's timestampToleranceMs of \(timestampToleranceMs) needs them from \(needed) (the setting must be the same on every validator)"
                    )
                }
                try await load(offer, headerSignatures: check.validSignatures(of: offer.header, offer.headerSignatures))
                return offer.manifest.height
            } catch {
                refusal = error
                logger.warning(
                    "snapshot refused", metadata: ["height": "\(offer.manifest.height)", "reason": "\(error)"])
            }
        }
        throw refusal ?? ChainError(.noQuorum, "no source offers a state snapshot")
    }

    func load(_ offer: Offer, headerSignatures: [ValidatorSignature]) async throws {
        let manifest = offer.manifest
        try FileManager.default.createDirectory(at: download, withIntermediateDirectories: true)
        let feed = SnapshotChunkFeed(count: manifest.chunkCount, window: window)
        // The downloads run their hashing and staging writes on a thread of their own, the load
        // on another: off the cooperative pool, one core each.
        let downloads = ThreadExecutor(name: "snapshot-download")
        defer { downloads.shutdown() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<min(parallel, manifest.chunkCount) {
                group.addTask(executorPreference: downloads) {
                    do {
                        while let index = await feed.claim() { feed.deliver(try await fetch(index, offer)) }
                    } catch {
                        feed.fail(error)
                        throw error
                    }
                }
            }
            let path = databasePath
            let hasher = genesis.suite.hasher
            group.addTask {
                do {
                    let swapped = try await OffPool.run {
                        try BlockStore.installSnapshot(
                            atPath: path, hasher: hasher, manifest, header: offer.header, signatures: headerSignatures
                        ) { try feed.take($0) }
                    }
                    if !swapped {
                        logger.notice(
                            "snapshot loaded in place, writing it twice: another connection held the database open",
                            metadata: ["path": "\(path)"])
                    }
                } catch {
                    feed.fail(error)
                    throw error
                }
            }
            try await group.waitForAll()
        }
        try? FileManager.default.removeItem(at: download)
        logger.info(
            "loaded state snapshot",
            metadata: [
                "height": "\(manifest.height)", "entries": "\(manifest.entryCount)",
                "committed": "\(manifest.committedCount)", "chunks": "\(manifest.chunkCount)",
            ])
    }

    /// Chunk `index` checked against the manifest: the one staged by an interrupted join when it
    /// matches, else from the offer's sources in turn, starting at a different one for each
    /// index (so the chunks in flight spread over them); a chunk that one refuses or serves
    /// wrong is taken from the next. A fetched chunk is staged in `download` for a restarted
    /// join (not read back by this one).
    func fetch(_ index: Int, _ offer: Offer) async throws -> CheckedSnapshotChunk {
        let manifest = offer.manifest
        let hasher = genesis.suite.hasher
        let file = download.appendingPathComponent(BlockStore.snapshotChunkName(index))
        if let data = try? Data(contentsOf: file),
            let chunk = try? CheckedSnapshotChunk(index: index, Array(data), manifest: manifest, hasher: hasher)
        {
            return chunk
        }
        var last: (any Error)?
        for k in 0..<offer.sources.count {
            let source = offer.sources[(index + k) % offer.sources.count]
            do {
                let chunk = try CheckedSnapshotChunk(
                    index: index, try await source.snapshotChunk(height: manifest.height, index: index), manifest: manifest,
                    hasher: hasher)
                try Data(chunk.bytes).write(to: file)
                return chunk
            } catch {
                try Task.checkCancellation()
                last = error
                logger.warning(
                    "snapshot chunk refused", metadata: ["source": "\(source.name)", "chunk": "\(index)", "reason": "\(error)"])
            }
        }
        throw last ?? ChainError(.syncFailed, "no source served chunk \(index)")
    }

    /// Parses an offer: `manifest` and `header` base64, `signatures` and `headerSignatures`
    /// lists of `{validator, signature}` (bounded), `epochs` as in proofs.
    static func parse(_ json: JSONValue, hasher: ChainHasher, source: any SnapshotSource) throws(ChainError) -> Offer {
        func fail(_ m: String) -> ChainError { ChainError(.snapshotMismatch, "snapshot offer: \(m)") }
        guard let m = json["manifest"]?.stringValue, m.utf8.count <= 64 << 20, let mb = Data(base64Encoded: m),
            let h = json["header"]?.stringValue, h.utf8.count <= 1 << 16, let hb = Data(base64Encoded: h)
        else { throw fail("manifest and header must be base64") }
        let manifest = try SnapshotManifest(decoding: Array(mb))
        let header = try BlockHeader(decoding: Array(hb), hasher: hasher)
        guard header.hash == manifest.headerHash, header.height == manifest.height else {
            throw fail("the header is not the manifest's block")
        }
        func signatures(_ key: String) -> [ValidatorSignature] {
            (json[key]?.arrayValue ?? []).prefix(1024).compactMap { s in
                guard let v = s["validator"]?.stringValue, v.utf8.count <= 128,
                    let b = s["signature"]?.stringValue.flatMap({ Data(base64Encoded: $0) }), b.count <= 256
                else { return nil }
                return ValidatorSignature(validator: v, signature: [UInt8](b))
            }
        }
        return Offer(
            manifest: manifest, header: header, signatures: signatures("signatures"),
            headerSignatures: signatures("headerSignatures"), epochs: json["epochs"]?.arrayValue ?? [], sources: [source])
    }
}
