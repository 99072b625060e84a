import ChainCore
import EPCIS
import Execution

/// The events captured by the `epcis` contract as query candidates: the committed `epcis_event`
/// contract events select them, their full records are read from state (`epcis/event/<hash>`).
public enum CapturedEPCISEvents {
    /// Candidates from at most `limit` committed `epcis_event` events.
    public static func candidates(events: any EventReader, state: any StateReader, limit: Int) throws -> [EPCISCandidate] {
        try candidates(events.events(contract: "epcis", name: "epcis_event", fromHeight: 0, limit: limit), state: state)
    }

    /// Candidates from stored events (others than `epcis_event` are ignored).
    public static func candidates(_ stored: [StoredEvent], state: any StateReader) -> [EPCISCandidate] {
        stored.compactMap { e in
            guard e.contract == "epcis", e.name == "epcis_event", let json = try? JSONParser().parse(Array(e.data.utf8)),
                let s = EPCISEventSummary(json: json)
            else { return nil }
            return EPCISCandidate(summary: s) { try state.read("epcis/" + s.key).map { try JSONParser().parse($0) } }
        }
    }
}
