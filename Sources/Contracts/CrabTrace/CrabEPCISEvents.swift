import ChainCore
import EPCIS
import Synchronization

/// Every step of the crab contract exported as an EPCIS event, as query candidates.
public enum CrabEPCISEvents {
    /// Most history entries exported; beyond it the export stops (`limitReached`).
    public static let maxEntries = 200_000

    /// The exported events with their CBV 2.0 event hashes.
    public struct Export: Sendable {
        /// The events, as query candidates.
        public let candidates: [EPCISCandidate]
        /// True when the history had more entries than `maxEntries`.
        public let limitReached: Bool
    }

    /// Exports the whole crab history read through `queries`.
    public static func export(_ queries: CrabQueries) throws -> Export {
        let entries = try queries.scanAll(CrabKeys.allHistoryPrefix, limit: maxEntries + 1).compactMap { e in
            (try? JSONParser().parse(e.value)).flatMap(HistoryEntry.init)
        }
        let limitReached = entries.count > maxEntries
        let kept = Array(entries.prefix(maxEntries))
        guard !kept.isEmpty else { return Export(candidates: [], limitReached: false) }
        let export = EPCISExport(queries: queries)
        let document = try EPCISDocument(
            export.document(events: try export.events(for: kept), creationTime: 0),
            limits: EPCISLimits(maxEvents: Int.max, maxListItems: 100_000))
        let candidates = document.events.map { event in
            let hash = event.hash
            let record: JSONValue = .object([
                "hash": .string(hash), "event": .object(event.json),
                "namespaces": .object(
                    event.namespaces.prefixes.filter { EPCISNamespaces.standard[$0.key] == nil }.mapValues { .string($0) }),
            ])
            return EPCISCandidate(summary: EPCISEventSummary(event: event, hash: hash)) { record }
        }
        return Export(candidates: candidates, limitReached: limitReached)
    }
}

/// The crab export of the last committed height it was computed at: exporting and hashing the
/// whole history is done once per height, not on every query.
public final class CrabEPCISCache: Sendable {
    private let cached = Mutex<(height: UInt64, export: CrabEPCISEvents.Export)?>(nil)

    /// An empty cache.
    public init() {}

    /// The export at `height`, computed with `make` when the cache holds another height.
    public func export(at height: UInt64, _ make: () throws -> CrabEPCISEvents.Export) throws -> CrabEPCISEvents.Export {
        if let hit = cached.withLock({ c in c.flatMap { $0.height == height ? $0.export : nil } }) { return hit }
        let fresh = try make()
        cached.withLock { $0 = (height, fresh) }
        return fresh
    }
}
