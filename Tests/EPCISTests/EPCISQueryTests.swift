import ChainCore
import ChainTesting
import EPCIS
import EPCISContract
import Execution
import Foundation
import Identity
import Storage
import Testing

@Suite struct EPCISQueryTests {
    static func summary(
        hash: String = "ni:///sha-256;aa?ver=CBV2.0", eventID: String? = nil, type: String = "ObjectEvent",
        bizStep: String? = "https://ref.gs1.org/cbv/BizStep-shipping", time: Int64 = 1_000,
        epcs: [String] = ["urn:epc:id:sgtin:0614141.107346.2017"]
    ) -> EPCISEventSummary {
        EPCISEventSummary(
            json: .object([
                "hash": .string(hash), "type": .string(type), "eventTime": .int(time), "key": .string("event/" + hash),
                "epcs": .array(epcs.map(JSONValue.string)), "eventID": eventID.map(JSONValue.string) ?? .null,
                "bizStep": bizStep.map(JSONValue.string) ?? .null,
            ]))!
    }

    @Test func eachParameterFilters() throws {
        let s = Self.summary(eventID: "urn:uuid:1")
        func q(_ p: [String: String]) throws -> Bool { try EPCISQuery(parameters: p).matches(s) }
        #expect(try q([:]))
        #expect(try q(["EQ_eventID": "ni:///sha-256;aa?ver=CBV2.0"]))
        #expect(try q(["EQ_eventID": "urn:uuid:2,urn:uuid:1"]))
        #expect(try !q(["EQ_eventID": "urn:uuid:2"]))
        #expect(try q(["MATCH_epc": "https://id.gs1.org/01/10614141073464/21/2017"]))
        #expect(try q(["MATCH_epc": "urn:epc:id:sgtin:0614141.107346.2017"]))
        #expect(try !q(["MATCH_epc": "urn:epc:id:sgtin:0614141.107346.2018"]))
        #expect(try q(["EQ_bizStep": "shipping"]))
        #expect(try q(["EQ_bizStep": "urn:epcglobal:cbv:bizstep:shipping,receiving"]))
        #expect(try !q(["EQ_bizStep": "receiving"]))
        #expect(try q(["GE_eventTime": "1970-01-01T00:00:01Z"]))
        #expect(try !q(["GE_eventTime": "1970-01-01T00:00:01.001Z"]))
        #expect(try q(["LT_eventTime": "1970-01-01T00:00:01.001Z"]))
        #expect(try !q(["LT_eventTime": "1970-01-01T00:00:01Z"]))
        #expect(try q(["eventType": "AggregationEvent,ObjectEvent"]))
        #expect(try !q(["eventType": "TransformationEvent"]))
        #expect(try !EPCISQuery(parameters: ["EQ_bizStep": "shipping"]).matches(Self.summary(bizStep: nil)))
    }

    @Test(arguments: [
        ["EQ_action": "ADD"], ["GE_eventTime": "yesterday"], ["eventType": "CrabEvent"], ["perPage": "0"],
        ["perPage": "x"], ["nextPageToken": "-1"], ["EQ_bizStep": "grading"], ["MATCH_epc": " , "],
    ])
    func badParametersFail(p: [String: String]) {
        let e = #expect(throws: ChainError.self) { try EPCISQuery(parameters: p) }
        #expect(e?.code.rawValue == "epcis_bad_query")
        #expect(e?.message.contains(p.keys.first!) == true)
    }

    /// Captures two documents, then queries the committed events and state like the API would.
    @Test func queryDocumentsAreBuiltFromCommittedEvents() throws {
        let consortium = try TestConsortium()
        let contract = EPCISContract()
        let executor = BlockExecutor(registry: ContractRegistry([contract]), hasher: .sha256)
        let id = try consortium.identity(.merchant)
        var txs: [VerifiedTransaction] = []
        for events in [
            [
                EPCISContractTests.event(bizStep: "shipping"),
                EPCISContractTests.event(bizStep: "receiving", eventID: "urn:uuid:r1"),
            ],
            [EPCISContractTests.event(bizStep: "shipping", time: "2024-06-01T00:00:00Z")],
        ] {
            let t = try id.transaction(
                chain: "test-chain", contract: "epcis", method: "capture", args: EPCISContractTests.capture(events))
            let (signer, _) = try consortium.membership().verify(certificateDER: t.signerCertificate, at: Date())
            txs.append(VerifiedTransaction(transaction: t, body: try TransactionBody.parse(t.body), signer: signer))
        }
        let out = try executor.execute(txs, height: 3, time: 99, state: MemoryState(), previousStateHash: .zero)
        var state = MemoryState()
        state.apply(out.writes)
        var stored: [StoredEvent] = []
        for (i, tx) in out.transactions.enumerated() {
            for (j, e) in tx.result.events.enumerated() {
                stored.append(
                    StoredEvent(height: 3, index: i, seq: j, contract: e.contract, name: e.name, data: e.data.canonicalString))
            }
        }
        let candidates = CapturedEPCISEvents.candidates(stored, state: state)
        let shipping = try EPCISQueryEngine.run(
            EPCISQuery(parameters: ["EQ_bizStep": "shipping", "perPage": "1"]), candidates: candidates, nowMillis: 5)
        let list = shipping.document["epcisBody"]?["queryResults"]?["resultsBody"]?["eventList"]?.arrayValue ?? []
        #expect(list.count == 1 && shipping.nextPageToken == "1")
        #expect(list[0]["eventID"]?.stringValue?.hasPrefix("ni:///sha-256;") == true)
        #expect(list[0]["bizStep"]?.stringValue == "shipping")
        let page2 = try EPCISQueryEngine.run(
            EPCISQuery(parameters: ["EQ_bizStep": "shipping", "perPage": "1", "nextPageToken": "1"]), candidates: candidates,
            nowMillis: 5)
        #expect(page2.nextPageToken == nil)
        let byID = try EPCISQueryEngine.run(
            EPCISQuery(parameters: ["EQ_eventID": "urn:uuid:r1"]), candidates: candidates, nowMillis: 5)
        let found = byID.document["epcisBody"]?["queryResults"]?["resultsBody"]?["eventList"]?.arrayValue ?? []
        #expect(found.count == 1 && found[0]["eventID"]?.stringValue == "urn:uuid:r1")
        // The emitted document is a valid EPCIS document again (round trip) and keeps the hashes.
        let all = try EPCISQueryEngine.run(EPCISQuery(parameters: [:]), candidates: candidates, nowMillis: 5)
        let reparsed = try EPCISDocument(all.document)
        #expect(reparsed.events.count == 3)
        let summaries = stored.compactMap {
            (try? JSONParser().parse(Array($0.data.utf8))).flatMap(EPCISEventSummary.init(json:))
        }
        #expect(Set(reparsed.events.map(\.hash)) == Set(summaries.map(\.hash)))
        try Self.validateWithOfficialSchema(all.document)
    }

    /// Validates with Python `jsonschema` against the official schema (skipped only where python3 or
    /// jsonschema is missing; CI has them).
    static func validateWithOfficialSchema(_ doc: JSONValue) throws {
        guard let errors = try EPCISSchemaCheck.errors(doc) else { return }
        #expect(errors.isEmpty, "schema errors: \(errors)")
    }
}
