import ChainCore
import EPCIS
import Execution

/// Answers EPCIS queries from committed chain data: the `epcis_event` contract events select the
/// matching events, their full records are read from state (`epcis/event/<hash>`).
public enum EPCISQueryRunner {
    /// One page of results.
    public struct Page: Sendable {
        /// The `EPCISQueryDocument`.
        public let document: JSONValue
        /// Token for the next page, nil on the last one.
        public let nextPageToken: String?
    }

    /// Runs `query` over `events` (committed events in chain order; others than `epcis_event`
    /// are ignored) and reads each match's record from `state`.
    public static func run(_ query: EPCISQuery, events: [StoredEvent], state: any StateReader, nowMillis: Int64) throws -> Page {
        var matched: [EPCISEventSummary] = []
        for e in events where e.contract == "epcis" && e.name == "epcis_event" {
            guard let json = try? JSONParser().parse(Array(e.data.utf8)), let s = EPCISEventSummary(json: json) else { continue }
            if query.matches(s) { matched.append(s) }
        }
        let page = matched.dropFirst(query.offset).prefix(query.perPage)
        var records: [JSONValue] = []
        for s in page {
            guard let raw = try state.read("epcis/" + s.key) else { continue }
            records.append(try JSONParser().parse(raw))
        }
        let end = query.offset + page.count
        return Page(
            document: EPCISQueryDocument.build(records: records, createdMillis: nowMillis),
            nextPageToken: end < matched.count ? String(end) : nil)
    }
}
