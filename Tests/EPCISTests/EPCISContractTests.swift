import ChainCore
import ChainTesting
import EPCIS
import EPCISContract
import Execution
import Foundation
import Identity
import Storage
import Testing

@Suite struct EPCISContractTests {
    static let crabGTIN = "06901234000016"
    let consortium: TestConsortium
    let contract = EPCISContract(config: EPCISConfig(crabGTINs: [crabGTIN]))
    let verifier: TransactionVerifier
    let executor: BlockExecutor

    init() throws {
        consortium = try TestConsortium()
        verifier = TransactionVerifier(
            chainId: "test-chain", memberships: try consortium.memberships(), registry: ContractRegistry([contract]))
        executor = BlockExecutor(registry: ContractRegistry([contract]), hasher: .sha256)
    }

    func raw(_ role: Role, _ args: JSONValue, method: String = "capture") throws -> VerifiedTransaction {
        let id = try consortium.identity(role)
        let t = try id.transaction(chain: "test-chain", contract: "epcis", method: method, args: args)
        let (signer, _) = try consortium.membership().verify(certificateDER: t.signerCertificate, at: Date())
        return VerifiedTransaction(transaction: t, body: try TransactionBody.parse(t.body), signer: signer)
    }

    static func document(_ events: [[String: JSONValue]]) -> JSONValue {
        .object([
            "@context": .array([.string(EPCISQueryDocument.context), .object(["ex": .string("https://ex.example/ns/")])]),
            "type": .string("EPCISDocument"), "schemaVersion": .string("2.0"), "creationDate": .string("2024-05-01T00:00:00Z"),
            "epcisBody": .object(["eventList": .array(events.map(JSONValue.object))]),
        ])
    }

    static func event(
        epc: String = "urn:epc:id:sgtin:4012345.011111.\(Int.random(in: 1...999_999))", bizStep: String = "shipping",
        time: String = "2024-05-01T10:00:00.000+08:00", eventID: String? = nil, disposition: String? = nil
    ) -> [String: JSONValue] {
        var e: [String: JSONValue] = [
            "type": .string("ObjectEvent"), "eventTime": .string(time), "eventTimeZoneOffset": .string("+08:00"),
            "action": .string("OBSERVE"), "bizStep": .string(bizStep), "epcList": .array([.string(epc)]),
            "ex:note": .string("hello"),
        ]
        if let eventID { e["eventID"] = .string(eventID) }
        if let disposition { e["disposition"] = .string(disposition) }
        return e
    }

    static func capture(_ events: [[String: JSONValue]]) -> JSONValue { .object(["document": document(events)]) }

    @Test func captureStoresEachEventUnderItsHashWithTheSigner() throws {
        let events = [Self.event(eventID: "urn:uuid:6f1c-1"), Self.event(bizStep: "receiving")]
        let t = try raw(.logistics, Self.capture(events))
        let out = try executor.execute([t], height: 7, time: 4242, state: MemoryState(), previousStateHash: .zero)
        #expect(out.transactions[0].result.error == nil)
        let doc = try EPCISDocument(Self.document(events))
        let hashes = doc.events.map(\.hash)
        #expect(Set(out.writes.map(\.key)) == Set(hashes.map { "epcis/event/\($0)" } + ["epcis/id/urn:uuid:6f1c-1"]))
        let record = try JSONParser().parse(out.writes.first { $0.key == "epcis/event/\(hashes[0])" }!.value!)
        #expect(record["hash"]?.stringValue == hashes[0])
        #expect(record["index"]?.int64Value == 0 && record["height"]?.int64Value == 7 && record["time"]?.int64Value == 4242)
        #expect(record["txid"]?.stringValue == t.id.hex)
        #expect(record["signer"]?["role"]?.stringValue == "logistics")
        #expect(record["event"]?["ex:note"]?.stringValue == "hello")
        let idWrite = try JSONParser().parse(out.writes.first { $0.key == "epcis/id/urn:uuid:6f1c-1" }!.value!)
        #expect(idWrite.stringValue == hashes[0])
        let emitted = out.transactions[0].result.events
        #expect(emitted.map(\.name) == ["epcis_event", "epcis_event"])
        let s = try #require(EPCISEventSummary(json: emitted[0].data))
        #expect(s.hash == hashes[0] && s.eventID == "urn:uuid:6f1c-1" && s.type == "ObjectEvent")
        #expect(s.bizStep == "https://ref.gs1.org/cbv/BizStep-shipping")
        #expect(s.eventTime == EPCISTime("2024-05-01T02:00:00Z")!.millis)
        #expect(s.key == "event/\(hashes[0])")
    }

    @Test func aDuplicateEventIsRefusedInTheSameDocumentAndLater() throws {
        let e = Self.event()
        let dup = try raw(.merchant, Self.capture([e, e]))
        let out1 = try executor.execute([dup], height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        #expect(out1.transactions[0].result.error?.code.rawValue == "epcis_duplicate")
        #expect(out1.writes.isEmpty)
        let first = try raw(.merchant, Self.capture([e]))
        // Same event re-serialised: another eventTime spelling and a URN turned Digital Link.
        var again = e
        again["eventTime"] = .string("2024-05-01T02:00:00Z")
        let second = try raw(.farm, Self.capture([again]))
        let out = try executor.execute([first, second], height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        #expect(out.transactions[0].result.error == nil)
        let err = try #require(out.transactions[1].result.error)
        #expect(err.code.rawValue == "epcis_duplicate" && err.message.contains("ni:///sha-256;"))
        var state = MemoryState()
        state.apply(out.writes)
        let later = try executor.execute([second], height: 2, time: 2, state: state, previousStateHash: out.stateHash)
        #expect(later.transactions[0].result.error?.code.rawValue == "epcis_duplicate")
    }

    /// EPCIS 2.0 error declarations: the erroneous event again, with `errorDeclaration` and the
    /// same eventID. Its hash is the erroneous event's; it is recorded beside it, once.
    @Test func anErrorDeclarationIsRecordedBesideTheEventItDeclares() throws {
        let original = Self.event(eventID: "urn:uuid:decl-1")
        var declared = original
        declared["errorDeclaration"] = .object([
            "declarationTime": .string("2024-05-02T00:00:00Z"), "reason": .string("incorrect_data"),
        ])
        let hash = try EPCISDocument(Self.document([original])).events[0].hash
        let txs = [
            try raw(.merchant, Self.capture([original])), try raw(.merchant, Self.capture([declared])),
            try raw(.merchant, Self.capture([declared])), try raw(.merchant, Self.capture([original])),
        ]
        let out = try executor.execute(txs, height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        let codes = out.transactions.map { $0.result.error?.code.rawValue }
        #expect(codes == [nil, nil, "epcis_duplicate", "epcis_duplicate"])
        #expect(out.transactions[2].result.error?.message.contains("error declaration") == true)
        let keys = Set(out.writes.map(\.key))
        #expect(keys == ["epcis/event/\(hash)", "epcis/decl/\(hash)", "epcis/id/urn:uuid:decl-1"])
        let record = try JSONParser().parse(out.writes.first { $0.key == "epcis/decl/\(hash)" }!.value!)
        #expect(record["hash"]?.stringValue == hash && record["event"]?["errorDeclaration"] != nil)
        let idWrite = try JSONParser().parse(out.writes.first { $0.key == "epcis/id/urn:uuid:decl-1" }!.value!)
        #expect(idWrite.stringValue == hash)
        let summary = try #require(EPCISEventSummary(json: out.transactions[1].result.events[0].data))
        #expect(summary.key == "decl/\(hash)" && summary.hash == hash)
        // Both come back from a query for that event id.
        var state = MemoryState()
        state.apply(out.writes)
        let stored = out.transactions.flatMap(\.result.events).compactMap { EPCISEventSummary(json: $0.data) }
        let candidates = stored.map { s in
            EPCISCandidate(summary: s) { [state] in try state.read("epcis/" + s.key).map { try JSONParser().parse($0) } }
        }
        let page = try EPCISQueryEngine.run(
            try EPCISQuery(parameters: ["EQ_eventID": hash]), candidates: candidates, nowMillis: 0)
        #expect(page.matched == 2)
    }

    @Test(arguments: [
        (Role.association, "commissioning", nil as String?, true), (.farm, "commissioning", nil, true),
        (.farm, "retail_selling", nil, false), (.lab, "inspecting", nil, true), (.lab, "shipping", nil, false),
        (.merchant, "retail_selling", nil, true), (.logistics, "arriving", nil, true), (.logistics, "commissioning", nil, false),
        (.regulator, "holding", nil, true), (.regulator, "shipping", "recalled", true), (.consumer, "receiving", nil, false),
        (.admin, "shipping", nil, false),
    ])
    func crabEventsNeedARoleAllowedForTheirBizStep(role: Role, bizStep: String, disposition: String?, allowed: Bool) throws {
        let crab = "https://id.gs1.org/01/\(Self.crabGTIN)/21/\(Int.random(in: 1...999_999))"
        let t = try raw(role, Self.capture([Self.event(epc: crab, bizStep: bizStep, disposition: disposition)]))
        let out = try executor.execute([t], height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        if allowed {
            #expect(out.transactions[0].result.error == nil)
        } else {
            let e = try #require(out.transactions[0].result.error)
            #expect(e.code.rawValue == "role_not_allowed" && e.message.contains(Self.crabGTIN), "\(e.message)")
            #expect(out.writes.isEmpty)
        }
        // Other products: any member role.
        let other = try raw(role, Self.capture([Self.event(bizStep: bizStep, disposition: disposition)]))
        let out2 = try executor.execute([other], height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        #expect(out2.transactions[0].result.error == nil)
    }

    @Test func crabGTINsMatchInURNForm() throws {
        // 06901234000017 = indicator 0, company prefix 6901234, item 00001, check 6.
        let urn = "urn:epc:id:sgtin:6901234.000001.55"
        #expect(contract.config.crabGTIN(in: urn) == Self.crabGTIN)
        let t = try raw(.lab, Self.capture([Self.event(epc: urn, bizStep: "shipping")]))
        let out = try executor.execute([t], height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        #expect(out.transactions[0].result.error?.code.rawValue == "role_not_allowed")
    }

    @Test func nodeIdentitiesCannotCaptureAndUnknownMethodsFail() throws {
        let txs = [try raw(.node, Self.capture([Self.event()])), try raw(.farm, Self.capture([Self.event()]), method: "delete")]
        let out = try executor.execute(txs, height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        #expect(out.transactions.map { $0.result.error?.code.rawValue } == ["role_not_allowed", "unknown_method"])
    }

    @Test func hostileArgumentsFailCleanly() throws {
        var deep = JSONValue.string("x")
        for _ in 0..<30 { deep = .array([deep]) }
        let cases: [(JSONValue, String)] = [
            (.object([:]), "bad_args"),
            (.object(["document": .string("x")]), "bad_args"), (.object(["document": .int(1)]), "bad_args"),
            (.object(["document": Self.document([]), "extra": .int(1)]), "bad_args"),
            (.object(["document": .object([:])]), "epcis_invalid"),
            (.object(["document": Self.document([])]), "epcis_invalid"),
            (.object(["document": Self.document([["type": .int(1)]])]), "epcis_invalid"),
            (.object(["document": Self.document([Self.event().merging(["ex:deep": deep]) { $1 }])]), "epcis_invalid"),
            (
                .object(["document": Self.document([Self.event().merging(["epcList": .array([.int(1), .null])]) { $1 }])]),
                "epcis_invalid"
            ),
        ]
        let txs = try cases.map { try raw(.farm, $0.0) }
        let out = try executor.execute(txs, height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        #expect(out.transactions.map { $0.result.error?.code.rawValue } == cases.map(\.1))
        #expect(out.writes.isEmpty)
    }

    @Test func everyOfficialExampleCanBeCaptured() throws {
        var txs: [VerifiedTransaction] = []
        for path in EPCISTestData.files("gs1/JSON") {
            txs.append(try raw(.merchant, .object(["document": try EPCISTestData.json(path)])))
        }
        let out = try executor.execute(txs, height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        // Some official examples repeat events of others (same hash): those are refused as duplicates.
        for (i, r) in out.transactions.enumerated() {
            #expect(
                r.result.error == nil || r.result.error?.code.rawValue == "epcis_duplicate",
                "\(i): \(String(describing: r.result.error))")
        }
        #expect(out.transactions.filter { $0.result.error == nil }.count > 30)
    }
}

@Suite struct EPCISTransactionLayerTests {
    @Test func argsThatAreNotAnObjectNeverReachTheContract() throws {
        let id = try TestConsortium().identity(.farm)
        for args in [JSONValue.array([]), .string("doc")] {
            let t = try id.transaction(chain: "test-chain", contract: "epcis", method: "capture", args: args)
            #expect(errorCode { try TransactionBody.parse(t.body) } == "malformed_body")
        }
    }
}
