import API
import ChainCore
import ChainTesting
import CrabTraceContract
import EPCISContract
import EvidenceContract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Identity
import Logging
import Node
import Storage
import Testing

/// `GET /v1/epcis/events` over a real node: captured GS1 examples and exported crab steps,
/// each query parameter, pagination, bad queries, and the official JSON Schema.
@Suite struct EPCISAPITests {
    static let testdata = EPCISSchemaCheck.testdata

    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium() }

    func withNode(
        maxScanned: Int = 200_000, _ body: @Sendable (ChainNode, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.epcisMaxScannedEvents = maxScanned
            let node = try ChainNode(
                genesis: consortium.genesis, config: config,
                databasePath: dir.appendingPathComponent("chain.sqlite").path, nodeKey: consortium.nodeKey,
                contracts: [
                    EvidenceContract(), EPCISContract(config: EPCISConfig()), CrabTraceContract(config: CrabTraceConfig()),
                ],
                logger: Logger(label: "test"))
            let app = Application(router: ChainAPI(node: node).router())
            try await app.test(.router) { client in try await body(node, client) }
        }
    }

    func commit(_ node: ChainNode, _ id: SigningIdentity, contract: String, method: String, args: JSONValue) throws
        -> StoredTransactionSummary
    {
        let tx = try id.transaction(chain: "test-chain", contract: contract, method: method, args: args)
        try node.submit(tx)
        try node.produceBlock()
        let stored = try #require(try node.store.transaction(tx.id))
        return StoredTransactionSummary(error: stored.result.error?.code.rawValue, events: stored.result.events.map(\.data))
    }

    func commit(_ node: ChainNode, _ id: SigningIdentity, _ call: ContractCall) throws -> StoredTransactionSummary {
        try commit(node, id, contract: call.contract, method: call.method, args: call.args)
    }

    struct StoredTransactionSummary {
        let error: String?
        let events: [JSONValue]
    }

    @Test func capturedAndCrabEventsAnswerEveryQueryParameter() async throws {
        try await withNode { node, client in
            let farm = try consortium.identity(.farm, org: "org1")
            let document = try JSONParser().parse(
                Array(try Data(contentsOf: Self.testdata.appendingPathComponent("gs1/JSON/Example_9.6.1-ObjectEvent.jsonld"))))
            let captured = try commit(node, farm, contract: "epcis", method: "capture", args: .object(["document": document]))
            #expect(captured.error == nil)
            let hashes = captured.events.compactMap { $0["hash"]?.stringValue }
            #expect(hashes.count == 2)
            #expect(hashes.allSatisfy { $0.hasPrefix("ni:///sha-256;") && $0.hasSuffix("?ver=CBV2.0") })

            // A crab step is exported as EPCIS too.
            let association = try consortium.identity(.association)
            let secret = Hash256.sha256(Array("s".utf8)).hex
            let crab = try commit(
                node, association,
                CrabCall.commissionRings(
                    gtin: "09521234543213", rings: [CrabCall.Ring(serial: "R0001", secretHash: secret)]))
            #expect(crab.error == nil)

            func events(_ query: String) async throws -> (HTTPResponse.Status, [JSONValue], JSONValue) {
                let r = try await client.call(.get, "/v1/epcis/events\(query)")
                return (r.status, r.json["epcisBody"]?["queryResults"]?["resultsBody"]?["eventList"]?.arrayValue ?? [], r.json)
            }
            let (status, all, doc) = try await events("")
            #expect(status == .ok)
            #expect(doc["type"]?.stringValue == "EPCISQueryDocument")
            #expect(all.count == 3)
            // By hash, always; by the document's own eventID.
            let byHash = try await events("?EQ_eventID=\(Self.escape(hashes[1]))").1
            #expect(byHash.count == 1 && byHash[0]["bizStep"]?.stringValue == "receiving")
            let ownID = "ni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0"
            #expect(try await events("?EQ_eventID=\(Self.escape(ownID))").1.count == 1)
            // By EPC, in its URN and its Digital Link spelling.
            #expect(try await events("?MATCH_epc=urn:epc:id:sgtin:0614141.107346.2018").1.count == 2)
            #expect(try await events("?MATCH_epc=\(Self.escape("https://id.gs1.org/01/10614141073464/21/2017"))").1.count == 1)
            // The crab ring by its Digital Link, and by bizStep.
            let ring = try await events("?MATCH_epc=\(Self.escape("https://id.gs1.org/01/09521234543213/21/R0001"))").1
            #expect(ring.count == 1 && ring[0]["bizStep"]?.stringValue?.contains("commissioning") == true)
            #expect(try await events("?EQ_bizStep=shipping").1.count == 1)
            #expect(try await events("?EQ_bizStep=commissioning").1.count == 1)
            // By time: the GS1 examples are from 2005, the crab step from now.
            #expect(try await events("?LT_eventTime=2010-01-01T00:00:00Z").1.count == 2)
            #expect(try await events("?GE_eventTime=2010-01-01T00:00:00Z").1.count == 1)
            #expect(try await events("?GE_eventTime=2005-04-04T12:00:00Z&LT_eventTime=2010-01-01T00:00:00Z").1.count == 1)
            // Pages.
            let first = try await client.call(.get, "/v1/epcis/events?perPage=2")
            #expect(first.json["epcisBody"]?["queryResults"]?["resultsBody"]?["eventList"]?.arrayValue?.count == 2)
            let token = try #require(first.headers[HTTPField.Name("GS1-Next-Page-Token")!])
            #expect(try await events("?perPage=2&nextPageToken=\(token)").1.count == 1)
            // Bad queries.
            for bad in ["?GE_eventTime=yesterday", "?perPage=0", "?EQ_bizStep=a&EQ_bizStep=b", "?unknownParam=1"] {
                let r = try await client.call(.get, "/v1/epcis/events\(bad)")
                #expect(r.status == .badRequest && r.code == "epcis_bad_query", "\(bad): \(r.json.canonicalString)")
            }
            // A later crab step shows up: the exported events are recomputed for the new height.
            let second = try commit(
                node, association,
                CrabCall.commissionRings(
                    gtin: "09521234543213", rings: [CrabCall.Ring(serial: "R0002", secretHash: secret)]))
            #expect(second.error == nil)
            #expect(try await events("?MATCH_epc=\(Self.escape("https://id.gs1.org/01/09521234543213/21/R0002"))").1.count == 1)
            #expect(try await events("").1.count == 4)
            // What we emit validates against the official schema.
            try Self.validateAgainstSchema(doc)
        }
    }

    /// A chain with more captured events than one query may consider refuses queries with
    /// `epcis_query_too_large` (413, EPCIS's QueryTooLargeException) instead of answering from a
    /// silently cut part of them.
    @Test func moreCapturedEventsThanAQueryConsidersIsRefusedNotCut() async throws {
        try await withNode(maxScanned: 2) { node, client in
            let farm = try consortium.identity(.farm, org: "org1")
            let document = try JSONParser().parse(
                Array(try Data(contentsOf: Self.testdata.appendingPathComponent("gs1/JSON/Example_9.6.1-ObjectEvent.jsonld"))))
            #expect(
                try commit(node, farm, contract: "epcis", method: "capture", args: .object(["document": document])).error == nil)
            // Two captured events: all considered.
            let ok = try await client.call(.get, "/v1/epcis/events")
            #expect(ok.status == .ok)
            #expect(ok.json["epcisBody"]?["queryResults"]?["resultsBody"]?["eventList"]?.arrayValue?.count == 2)
            // A third: the query would see only part of them.
            let other = try JSONParser().parse(
                Array(
                    try Data(
                        contentsOf: Self.testdata.appendingPathComponent("gs1/JSON/Example_9.6.2-ObjectEvent.jsonld"))))
            #expect(try commit(node, farm, contract: "epcis", method: "capture", args: .object(["document": other])).error == nil)
            let refused = try await client.call(.get, "/v1/epcis/events?EQ_bizStep=shipping")
            #expect(
                refused.status == .contentTooLarge && refused.code == "epcis_query_too_large", "\(refused.json.canonicalString)")
        }
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    /// Validates with Python `jsonschema` against the official EPCIS 2.0 schema (skipped only where
    /// python3 or jsonschema is missing; CI has them).
    static func validateAgainstSchema(_ document: JSONValue) throws {
        guard let errors = try EPCISSchemaCheck.errors(document) else { return }
        #expect(errors.isEmpty, "schema: \(errors)")
    }
}
