import ChainCore
import EPCIS
import Testing

@Suite struct EPCISValidationTests {
    @Test func theTestDataIsThere() {
        #expect(EPCISTestData.files("gs1/JSON").count == 47)
        #expect(EPCISTestData.files("openepcis/Documents").count == 38)
        #expect(EPCISTestData.files("openepcis/Invalid").count == 15)
    }

    @Test(arguments: EPCISTestData.files("gs1/JSON"))
    func everyOfficialGS1ExampleIsAccepted(path: String) throws {
        let doc = try EPCISDocument(try EPCISTestData.json(path))
        #expect(!doc.events.isEmpty)
        for e in doc.events { #expect(e.hash.hasPrefix("ni:///sha-256;")) }
    }

    @Test(arguments: EPCISTestData.files("openepcis/Documents") + EPCISTestData.files("openepcis/Events"))
    func openEPCISDocumentsAndEventsAreAccepted(path: String) throws {
        let doc = try EPCISDocument(try EPCISTestData.json(path))
        #expect(!doc.events.isEmpty)
    }

    /// Each invalid document and a phrase the error must contain.
    static let invalid: [(String, String)] = [
        ("Combination_of_events_with_missing_mandatory_fields.json", "event 0 action"),
        ("Combination_of_multiple_invalid_fields.json", "event 0 bizStep: \"transforming\""),
        ("Combination_of_non_standard_bizStep_and_disposition.json", "event 0 bizStep: \"transforming\""),
        ("EPCISDocument_without_context.json", "document @context: required"),
        ("ObjectEvent_with_ilmd_field_without_namespace.json", "event 0 ilmd.materialType"),
        ("ObjectEvent_with_invalid_action.json", "event 0 action: \"CREATE\""),
        ("ObjectEvent_with_invalid_certificationInfo.json", "event 0 certificationInfo"),
        ("ObjectEvent_with_invalid_eventTime_format.json", "event 0 eventTime: \"22-07-2026\""),
        ("ObjectEvent_with_non_standard_bizStep.json", "event 0 bizStep: \"transforming\" is not a CBV 2.0 bizStep"),
        ("ObjectEvent_with_non_standard_bizStep_in_second_event.json", "event 1 bizStep"),
        ("ObjectEvent_with_non_standard_disposition.json", "event 0 disposition: \"in_transport\""),
        ("ObjectEvent_with_quantity_as_text.json", "event 0 quantityList[0].quantity: must be a number"),
        ("ObjectEvent_with_unknown_field_in_quantityList.json", "event 0 quantityList[0].weight"),
        ("ObjectEvent_without_action_and_eventTime.json", "event 0 eventTime"),
        ("ObjectEvent_without_identifier_list.json", "event 0 epcList"),
    ]

    @Test func theInvalidListCoversTheFolder() {
        #expect(Set(Self.invalid.map { "openepcis/Invalid/" + $0.0 }) == Set(EPCISTestData.files("openepcis/Invalid")))
    }

    @Test(arguments: invalid)
    func everyInvalidDocumentIsRefusedWithAClearError(file: String, phrase: String) throws {
        let value = try EPCISTestData.json("openepcis/Invalid/" + file)
        do {
            _ = try EPCISDocument(value)
            Issue.record("\(file) was accepted")
        } catch {
            #expect(error.code.rawValue == "epcis_invalid")
            #expect(error.message.contains(phrase), "\(file): \(error.message)")
        }
    }

    static func event(_ extra: [String: JSONValue], removing: [String] = []) -> JSONValue {
        var e: [String: JSONValue] = [
            "type": .string("ObjectEvent"), "eventTime": .string("2024-05-01T10:00:00.000+08:00"),
            "eventTimeZoneOffset": .string("+08:00"), "action": .string("OBSERVE"),
            "epcList": .array([.string("urn:epc:id:sgtin:0614141.107346.2017")]),
        ]
        for (k, v) in extra { e[k] = v }
        for k in removing { e[k] = nil }
        return .object([
            "@context": .array([.string(EPCISQueryDocument.context), .object(["ex": .string("https://ex.example/")])]),
            "type": .string("EPCISDocument"), "schemaVersion": .string("2.0"),
            "creationDate": .string("2024-05-01T10:00:00Z"), "epcisBody": .object(["eventList": .array([.object(e)])]),
        ])
    }

    @Test(arguments: [
        (["bizStep": JSONValue.string("urn:epcglobal:cbv:bizstep:shipping")], true),
        (["bizStep": .string("https://ref.gs1.org/cbv/BizStep-shipping")], true),
        (["bizStep": .string("https://example.com/steps/grading")], true),
        (["bizStep": .string("https://ref.gs1.org/cbv/BizStep-grading")], false),
        (["bizStep": .string("urn:epcglobal:cbv:bizstep:grading")], false),
        (["bizStep": .int(3)], false),
        (["disposition": .string("recalled")], true),
        (
            ["sourceList": .array([.object(["type": .string("place"), "source": .string("urn:epc:id:pgln:4012345.00000")])])],
            false
        ),
        (
            [
                "sourceList": .array([
                    .object(["type": .string("owning_party"), "source": .string("urn:epc:id:pgln:4012345.00000")])
                ])
            ], true
        ),
        (["bizTransactionList": .array([.object(["type": .string("invoice"), "bizTransaction": .string("urn:x:1")])])], false),
        (["ex:grade": .string("A")], true),
        (["grade": .string("A")], false),
        (["undeclared:grade": .string("A")], false),
        (["https://ex.example/grade": .string("A")], true),
        (["eventTimeZoneOffset": .string("+15:00")], false),
        (["eventTime": .string("2024-02-30T10:00:00Z")], false),
        (["readPoint": .object(["id": .string("urn:epc:id:sgln:0614141.07346.1234"), "ex:x": .int(1)])], true),
        (["readPoint": .object(["id": .string("urn:epc:id:sgln:0614141.07346.1234"), "shelf": .int(1)])], false),
        (["ilmd": .object(["ex:lot": .string("7")])], false),  // ilmd needs action ADD
        (
            [
                "quantityList": .array([
                    .object([
                        "epcClass": .string("urn:epc:class:lgtin:4012345.012345.998877"), "quantity": .int(5),
                        "uom": .string("kg"),
                    ])
                ])
            ], false
        ),
        (
            [
                "sensorElementList": .array([
                    .object([
                        "sensorReport": .array([
                            .object(["type": .string("Temperature"), "value": .number("4.5"), "uom": .string("CEL")])
                        ])
                    ])
                ])
            ], true
        ),
        (
            [
                "sensorElementList": .array([
                    .object(["sensorReport": .array([.object(["type": .string("https://gs1.org/voc/Warmth")])])])
                ])
            ], false
        ),
        (["sensorElementList": .array([.object(["sensorReport": .array([])])])], false),
        (["certificationInfo": .array([.string("https://cert.example/1"), .string("not a uri")])], false),
    ])
    func cbvAndSchemaRules(extra: [String: JSONValue], valid: Bool) {
        let result = Result { () throws(ChainError) in try EPCISDocument(Self.event(extra)) }
        switch result {
        case .success: #expect(valid, "accepted \(extra)")
        case .failure(let e):
            #expect(!valid, "refused \(extra): \(e.message)")
            #expect(e.code.rawValue == "epcis_invalid")
        }
    }

    @Test func limitsAreEnforced() throws {
        let one = Self.event([:])
        var doc = one.objectValue!
        let e = one["epcisBody"]!["eventList"]!.arrayValue![0]
        doc["epcisBody"] = .object(["eventList": .array(Array(repeating: e, count: 501))])
        #expect(throws: ChainError.self) { try EPCISDocument(.object(doc)) }
        var deep = JSONValue.string("x")
        for _ in 0..<40 { deep = .object(["ex:n": deep]) }
        let error = #expect(throws: ChainError.self) { try EPCISDocument(Self.event(["ex:deep": deep])) }
        #expect(error?.message.contains("nesting") == true)
    }
}
