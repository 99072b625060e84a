import ChainCore
import Foundation
import Identity
import Logging
import Node
import Storage

/// `xiangchain bench-snapshot`: the figures of docs/performance.md, "Snapshot join". A synthetic
/// certified snapshot of N state entries shaped like a crab and evidence chain's (keys
/// `evidence/<64 hex>`, `crab/obj/01/<gtin>/21/<serial>`, `crab/hist/…`; values of 100–400
/// bytes) and M committed ids, laid out as a node serves it over HTTP (`<dir>/serve/v1/snapshots/…`,
/// static files any HTTP server can serve), with the genesis of its one validator; then the time
/// of `BlockStore.installSnapshot` into a fresh store from the chunk files, and of a whole
/// `SnapshotJoin` from HTTP sources.
public enum SnapshotJoinBench {
    /// A deterministic generator (SplitMix64), so two runs load the same bytes.
    struct Mix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func bytes(_ n: Int) -> [UInt8] {
            var out = [UInt8]()
            out.reserveCapacity(n + 8)
            while out.count < n {
                let v = next()
                for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
            }
            return Array(out.prefix(n))
        }
    }

    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    static func padded(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// The entries, in key order: a fifth crab histories, a third crab objects, the rest evidence.
    static func entries(_ count: Int, _ body: (StateEntry) throws -> Void) rethrows {
        var mix = Mix(state: 17)
        let hist = count / 5
        let obj = count / 3
        let evidence = count - hist - obj
        for i in 0..<hist {
            let key = "crab/hist/01/0690123400\(padded(i / 1000, 4))/21/\(padded(i, 10))/\(padded(i % 7, 4))"
            try body(StateEntry(key: key, value: mix.bytes(100 + Int(mix.next() % 101))))
        }
        for i in 0..<obj {
            let key = "crab/obj/01/0690123400\(padded(i / 1000, 4))/21/\(padded(i, 10))"
            try body(StateEntry(key: key, value: mix.bytes(200 + Int(mix.next() % 201))))
        }
        let step = UInt64.max / UInt64(max(1, evidence))
        for i in 0..<evidence {
            let key = "evidence/" + hex(UInt64(i) &* step) + hex(mix.next()) + hex(mix.next()) + hex(mix.next())
            try body(StateEntry(key: key, value: mix.bytes(150 + Int(mix.next() % 151))))
        }
    }

    /// Writes the snapshot of `entries` state entries and `committed` ids into `dir`: the
    /// genesis (`genesis.json`), the chunks and the offer under `serve/v1/snapshots/`, and
    /// `manifest`/`header`/`signatures` for `install`. Returns the manifest.
    public static func prepare(dir: URL, entries count: Int, committed: Int, suite: CryptoSuite) throws -> SnapshotManifest {
        let hasher = suite.hasher
        let height: UInt64 = 1_000
        let serve = dir.appendingPathComponent("serve/v1/snapshots")
        let chunks = serve.appendingPathComponent(String(height)).appendingPathComponent("chunks")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: chunks, withIntermediateDirectories: true)
        var hashes: [Hash256] = []
        func emit(_ chunk: [UInt8]) throws {
            try Data(chunk).write(to: chunks.appendingPathComponent(String(hashes.count)))
            hashes.append(hasher.hash(chunk))
        }
        var chunker = SnapshotChunker()
        try entries(count) { if let c = chunker.add($0) { try emit(c) } }
        if let c = chunker.finish() { try emit(c) }
        let stateChunks = hashes.count
        let time: Int64 = 1_800_000_000_000
        let since = SnapshotManifest.committedSince(blockTime: time, timestampToleranceMs: 600_000)
        var mix = Mix(state: 99)
        let perChunk = (SnapshotChunk.targetBytes - 4) / CommittedIDChunk.entryBytes
        var batch: [CommittedID] = []
        let step = UInt64.max / UInt64(max(1, committed))
        for i in 0..<committed {
            var id = [UInt8](repeating: 0, count: 32)
            let top = UInt64(i) &* step
            for b in 0..<8 { id[b] = UInt8(truncatingIfNeeded: top >> (8 * (7 - b))) }
            id.replaceSubrange(8..<32, with: mix.bytes(24))
            batch.append(CommittedID(id: Hash256(id)!, blockTime: since + Int64(i % 1_200_000)))
            if batch.count == perChunk {
                try emit(CommittedIDChunk.encode(batch))
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try emit(CommittedIDChunk.encode(batch)) }

        let ca = try CertificateAuthority.create(org: "org0", suite: suite)
        let key = SigningKey.generate(suite)
        let cert = try ca.issue(role: .node, name: "node0", subjectKey: key, dnsNames: ["localhost"])
        let genesis = Genesis(
            chainId: "bench-snapshot", suite: suite, createdAt: 0,
            orgs: [Genesis.Org(name: "org0", caCertificate: try ca.certificatePEM, roles: nil)],
            validators: [
                Genesis.Validator(
                    nodeId: "node0", org: "org0", certificate: KeyPEM.certificatePEM(fromDER: cert.derBytes()),
                    p2pAddress: "127.0.0.1:7000")
            ])
        try JSONEncoder().encode(genesis).write(to: dir.appendingPathComponent("genesis.json"))
        let header = BlockHeader(
            chainId: genesis.chainId, height: height, parentHash: hasher.hash([1]), timestamp: time, proposer: "node0",
            txCount: 0, txRoot: hasher.hash([2]), execHeight: height - 1, resultRoot: hasher.hash([3]),
            stateHash: hasher.hash([4]), hasher: hasher)
        let manifest = SnapshotManifest(
            chainId: genesis.chainId, height: height, headerHash: header.hash, resultRoot: hasher.hash([5]),
            stateHash: hasher.hash([6]), entryCount: UInt64(count), chunkHashes: Array(hashes[..<stateChunks]),
            committedSince: since, committedCount: UInt64(committed), committedChunkHashes: Array(hashes[stateChunks...]))
        let signature = try key.sign(manifest.signingMessage(hasher: hasher))
        let headerSignature = try key.sign(header.signingMessage)
        func list(_ s: [UInt8]) -> JSONValue {
            .array([.object(["validator": .string("node0"), "signature": .string(Data(s).base64EncodedString())])])
        }
        let offer = JSONValue.object([
            "height": .int(Int64(height)), "manifest": .string(Data(manifest.encoded).base64EncodedString()),
            "header": .string(Data(header.encoded).base64EncodedString()), "signatures": list(signature),
            "headerSignatures": list(headerSignature), "epochs": .array([]),
        ])
        try Data(offer.canonicalBytes).write(to: serve.appendingPathComponent("latest"))
        try Data(manifest.encoded).write(to: dir.appendingPathComponent("manifest"))
        try Data(header.encoded).write(to: dir.appendingPathComponent("header"))
        try Data(ValidatorSignature.encodeList([ValidatorSignature(validator: "node0", signature: headerSignature)]))
            .write(to: dir.appendingPathComponent("signatures"))
        return manifest
    }

    static func genesis(_ dir: URL) throws -> Genesis {
        try JSONDecoder().decode(Genesis.self, from: Data(contentsOf: dir.appendingPathComponent("genesis.json")))
    }

    static func freshStore(_ path: String, genesis: Genesis, synchronousFull: Bool) throws -> BlockStore {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let store = try BlockStore(path: path, hasher: genesis.suite.hasher, synchronousFull: synchronousFull)
        try store.bindGenesis(hash: try genesis.hash, chainId: genesis.chainId)
        return store
    }

    /// Loads the prepared snapshot's chunk files into a fresh store `<dir>/install.sqlite`; the
    /// seconds it took.
    public static func install(dir: URL, synchronousFull: Bool, inPlace: Bool) throws -> (
        seconds: Double, manifest: SnapshotManifest
    ) {
        let genesis = try genesis(dir)
        let hasher = genesis.suite.hasher
        let manifest = try SnapshotManifest(decoding: Array(try Data(contentsOf: dir.appendingPathComponent("manifest"))))
        let header = try BlockHeader(
            decoding: Array(try Data(contentsOf: dir.appendingPathComponent("header"))), hasher: hasher)
        let signatures = try ValidatorSignature.decodeList(
            Array(try Data(contentsOf: dir.appendingPathComponent("signatures"))))
        let chunks = dir.appendingPathComponent("serve/v1/snapshots/\(manifest.height)/chunks")
        let path = dir.appendingPathComponent("install.sqlite").path
        let store = try freshStore(path, genesis: genesis, synchronousFull: synchronousFull)
        func chunk(_ index: Int) throws -> [UInt8] { Array(try Data(contentsOf: chunks.appendingPathComponent(String(index)))) }
        let start = ContinuousClock.now
        if inPlace {
            try store.installSnapshot(manifest, header: header, signatures: signatures, chunk: chunk)
        } else {
            try store.close()
            guard
                try BlockStore.installSnapshot(
                    atPath: path, hasher: hasher, manifest, header: header, signatures: signatures,
                    checked: {
                        try CheckedSnapshotChunk(index: $0, try chunk($0), manifest: manifest, hasher: hasher)
                    })
            else { throw ChainError(.storageUnavailable, "loaded in place") }
        }
        return (seconds(ContinuousClock.now - start), manifest)
    }

    /// A whole join of a fresh store `<dir>/join.sqlite` from `sources` (base URLs serving
    /// `<dir>/serve`); the seconds it took.
    /// With `resume`, the database and the staged chunks an interrupted join left are kept.
    public static func join(dir: URL, sources: [String], synchronousFull: Bool, resume: Bool = false) async throws
        -> Double
    {
        let genesis = try genesis(dir)
        let path = dir.appendingPathComponent("join.sqlite").path
        let download = URL(fileURLWithPath: path + ".download")
        if !resume {
            _ = try freshStore(path, genesis: genesis, synchronousFull: synchronousFull)
            try? FileManager.default.removeItem(at: download)
        }
        let join = SnapshotJoin(
            genesis: genesis, databasePath: path, sources: try sources.map { try HTTPSnapshotSource($0) },
            download: download, logger: Logger(label: "bench-snapshot"))
        let start = ContinuousClock.now
        try await join.run()
        return seconds(ContinuousClock.now - start)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
