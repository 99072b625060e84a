import ChainCore
import Foundation
import GRDB

/// The chain as it stood when `BlockStore.freeze()` was called: an SQLite read transaction kept
/// open, so blocks committed afterwards are not seen. A node freezes the state right after
/// committing a snapshot height and writes the snapshot from it in the background.
public final class FrozenState: Sendable {
    let snapshot: DatabaseSnapshot
    let store: BlockStore

    init(snapshot: DatabaseSnapshot, store: BlockStore) {
        self.snapshot = snapshot
        self.store = store
    }

    /// Writes the frozen state as a snapshot (`BlockStore.writeStateSnapshot`).
    public func writeStateSnapshot(
        chainId: String, timestampToleranceMs: Int64, to directory: URL, chunkBytes: Int = SnapshotChunk.targetBytes
    ) throws -> SnapshotManifest {
        try store.writeStateSnapshot(
            chainId: chainId, timestampToleranceMs: timestampToleranceMs, to: directory, chunkBytes: chunkBytes,
            reader: snapshot)
    }
}

extension BlockStore {
    /// Freezes the chain as it stands now (cheap: opens a read transaction).
    public func freeze() throws -> FrozenState {
        FrozenState(snapshot: try pool.makeSnapshot(), store: self)
    }
}
