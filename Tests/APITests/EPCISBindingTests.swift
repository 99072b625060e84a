import Accounts
import ChainCore
import ChainTesting
import EPCIS
import EPCISContract
import Execution
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Identity
import NIOCore
import Node
import Storage
import Testing

@testable import API

/// The GS1 EPCIS 2.0 REST binding (`/v1/epcis/capture`, `/events/{id}`, `/eventTypes`, `/epcs/…`)
/// on a real node with SQLite files and console accounts: capture jobs, duplicates reported per
/// event, XML capture hashing like its JSON-LD twin, error behaviours, version headers, refusals
/// as RFC 7807 problems, and the capture job checked against GS1's own OpenAPI schema.
@Suite struct EPCISBindingTests {
    static let testdata = EPCISSchemaCheck.testdata
    static let password = "capture password"
    static let crabGTIN = "09521234543213"

    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium(orgs: ["org0", "org1"]) }

    struct Env: Sendable {
        let node: ChainNode
        let client: any TestClientProtocol
        let farmToken: String
        let labToken: String
    }

    static let schemas = Result { try EPCISXMLSchemas(directory: testdata.appendingPathComponent("gs1/XSD")) }

    /// A node with the binding and two console accounts; with `produce`, blocks are cut every 10 ms.
    func withBinding(
        xml: Bool = true, produce: Bool = true, maxWait: Duration = .seconds(5), _ body: @Sendable (Env) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.syncCommits = false
            let node = try consortium.node(
                in: dir, config: config, contracts: [EPCISContract(config: EPCISConfig(crabGTINs: [Self.crabGTIN]))])
            let store = try AccountStore(
                path: dir.appendingPathComponent("accounts.sqlite").path, realNameSalt: Array(repeating: 2, count: 32),
                dataKey: Array(repeating: 3, count: 32), suite: .ed25519, kdf: PasswordKDF(iterations: 1_000))
            for (user, role) in [("farmer", Role.farm), ("tester", .lab)] {
                _ = try store.create(
                    NewAccount(
                        username: user, name: "N \(user)", idNumber: "ID-\(user)", phone: "13900000000", role: role,
                        password: Self.password), ca: consortium.cas["org1"]!, suite: .ed25519)
            }
            let api = ChainAPI(
                node: node, maxWait: maxWait,
                console: ConsoleAccounts(store: store, ca: consortium.cas["org0"], hosted: [consortium.cas["org1"]!]),
                xmlSchemas: xml ? try Self.schemas.get() : nil)
            let app = Application(router: api.router())
            try await app.test(.router) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    if produce {
                        group.addTask {
                            while !Task.isCancelled {
                                try node.produceBlock()
                                try await Task.sleep(for: .milliseconds(10))
                            }
                        }
                    }
                    func token(_ user: String) async throws -> String {
                        let r = try await client.signIn("org1", user, Self.password)
                        return try #require(r.json["token"]?.stringValue, "\(r.json)")
                    }
                    try await body(
                        Env(node: node, client: client, farmToken: try await token("farmer"), labToken: try await token("tester"))
                    )
                    group.cancelAll()
                }
            }
        }
    }

    static func file(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: testdata.appendingPathComponent(path))) }

    /// A GS1 request: bearer token, content type, extra headers.
    static func call(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, token: String? = nil,
        type: String = "application/ld+json", headers extra: [String: String] = [:], body: [UInt8]? = nil
    ) async throws -> Reply {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil { headers[.contentType] = type }
        for (k, v) in extra { headers[HTTPField.Name(k)!] = v }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) }) {
            r in
            let bytes = Array(buffer: r.body)
            return Reply(status: r.status, json: bytes.isEmpty ? .null : try JSONParser().parse(bytes), headers: r.headers)
        }
    }

    /// Polls a capture job until it is no longer running.
    static func finished(_ client: any TestClientProtocol, _ location: String) async throws -> JSONValue {
        for _ in 0..<500 {
            let r = try await call(client, .get, location)
            #expect(r.status == .ok, "\(r.json)")
            if r.json["running"] == .bool(false) { return r.json }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("capture job \(location) still running")
        return .null
    }

    static func header(_ r: Reply, _ name: String) -> String? { r.headers[HTTPField.Name(name)!] }

    @Test func captureJobsReportDuplicatesPerEventAndXMLHashesLikeItsJSONTwin() async throws {
        try await withBinding { env in
            let json = try Self.file("gs1/JSON/Example_9.6.1-ObjectEvent.jsonld")
            var doc = try JSONParser().parse(json)
            let events = try #require(doc["epcisBody"]?["eventList"]?.arrayValue)
            #expect(events.count == 2)
            let expected = try EPCISDocument(doc).events.map(\.hash)

            // First only the first event.
            var first = try #require(doc.objectValue)
            first["epcisBody"] = .object(["eventList": .array([events[0]])])
            doc = .object(first)
            let r1 = try await Self.call(env.client, .post, "/v1/epcis/capture", token: env.farmToken, body: doc.canonicalBytes)
            #expect(r1.status == .accepted, "\(r1.json)")
            #expect(Self.header(r1, "GS1-EPCIS-Version") == "2.0.0")
            #expect(Self.header(r1, "GS1-CBV-Version") == "2.0.0")
            #expect(Self.header(r1, "GS1-EPCIS-Capture-Limit") == "500")
            let location1 = try #require(r1.headers[.location])
            #expect(location1.hasPrefix("/v1/epcis/capture/"))
            let job1 = try await Self.finished(env.client, location1)
            #expect(job1["success"] == .bool(true) && job1["captureErrorBehaviour"]?.stringValue == "rollback", "\(job1)")
            #expect(job1["captured"]?.arrayValue == [.string(expected[0])])
            #expect(job1["finishedAt"]?.stringValue != nil && job1["createdAt"]?.stringValue != nil)
            try Self.checkAgainstGS1(job1)

            // Then the whole document: the first is reported as a duplicate, the second captured.
            let r2 = try await Self.call(env.client, .post, "/v1/epcis/capture", token: env.farmToken, body: json)
            #expect(r2.status == .accepted, "\(r2.json)")
            let job2 = try await Self.finished(env.client, try #require(r2.headers[.location]))
            #expect(job2["success"] == .bool(true), "\(job2)")
            #expect(job2["captured"]?.arrayValue == [.string(expected[1])])
            #expect(job2["duplicates"]?.arrayValue?.compactMap { $0["hash"]?.stringValue } == [expected[0]])
            try Self.checkAgainstGS1(job2)

            // An XML document and its JSON-LD twin: captured as JSON-LD, then as XML, every event
            // is a duplicate, with the same hashes.
            let twinJSON = try Self.file("event-hash/examples/ReferenceEventHashAlgorithm.jsonld")
            let xml = try Self.file("event-hash/examples/ReferenceEventHashAlgorithm.xml")
            let twinHashes = try EPCISDocument(try JSONParser().parse(twinJSON)).events.map(\.hash)
            #expect(try EPCISXML.events(xml).map(\.hash) == twinHashes)
            let rj = try await Self.call(env.client, .post, "/v1/epcis/capture", token: env.farmToken, body: twinJSON)
            let jobJ = try await Self.finished(env.client, try #require(rj.headers[.location]))
            #expect(
                jobJ["success"] == .bool(true) && jobJ["captured"]?.arrayValue?.compactMap(\.stringValue) == twinHashes, "\(jobJ)"
            )
            let r3 = try await Self.call(
                env.client, .post, "/v1/epcis/capture", token: env.farmToken, type: "application/xml", body: xml)
            #expect(r3.status == .accepted, "\(r3.json)")
            let job3 = try await Self.finished(env.client, try #require(r3.headers[.location]))
            #expect(job3["success"] == .bool(true) && job3["captured"]?.arrayValue == [], "\(job3)")
            #expect(job3["duplicates"]?.arrayValue?.compactMap { $0["hash"]?.stringValue } == twinHashes)

            // The events by id (hash), by type, by EPC and by bizStep.
            let one = try await Self.call(env.client, .get, "/v1/epcis/events/\(Self.escape(expected[1]))")
            #expect(one.status == .ok && one.json["type"]?.stringValue == "ObjectEvent", "\(one.json)")
            #expect(Self.header(one, "GS1-EPCIS-Version") == "2.0.0")
            let missing = try await Self.call(env.client, .get, "/v1/epcis/events/\(Self.escape("ni:///sha-256;00?ver=CBV2.0"))")
            #expect(missing.status == .notFound && missing.json["type"]?.stringValue == "epcisException:NoSuchResourceException")
            func count(_ path: String) async throws -> Int? {
                let r = try await Self.call(env.client, .get, path)
                #expect(r.status == .ok, "\(path): \(r.json)")
                return r.json["epcisBody"]?["queryResults"]?["resultsBody"]?["eventList"]?.arrayValue?.count
            }
            #expect(try await count("/v1/epcis/eventTypes/ObjectEvent/events") == 3)
            #expect(try await count("/v1/epcis/eventTypes/AggregationEvent/events") == 0)
            #expect(try await count("/v1/epcis/epcs/\(Self.escape("urn:epc:id:sgtin:0614141.107346.2018"))/events") == 2)
            #expect(try await count("/v1/epcis/epcs/\(Self.escape("https://id.gs1.org/01/10614141073464/21/2017"))/events") == 1)
            #expect(try await count("/v1/epcis/bizSteps/receiving/events") == 1)
            let types = try await Self.call(env.client, .get, "/v1/epcis/eventTypes")
            #expect(types.json["member"]?.arrayValue?.count == 5)
            let unknownType = try await Self.call(env.client, .get, "/v1/epcis/eventTypes/CrabEvent/events")
            #expect(unknownType.status == .notFound)
            // A path filter cannot be given again in the query.
            let twice = try await Self.call(env.client, .get, "/v1/epcis/bizSteps/receiving/events?EQ_bizStep=shipping")
            #expect(twice.status == .badRequest && twice.json["type"]?.stringValue == "epcisException:QueryParameterException")

            // The caller's jobs, newest first; another account sees none of them.
            let mine = try await Self.call(env.client, .get, "/v1/epcis/capture", token: env.farmToken)
            #expect(mine.json["member"]?.arrayValue?.count == 4, "\(mine.json)")
            #expect(mine.json["member"]?.arrayValue?.first?.stringValue == r3.headers[.location])
            let theirs = try await Self.call(env.client, .get, "/v1/epcis/capture", token: env.labToken)
            #expect(theirs.json["member"]?.arrayValue == [])
        }
    }

    @Test func errorBehaviourRollbackRefusesAllProceedKeepsWhatPasses() async throws {
        try await withBinding { env in
            // A farm may ship crabs but not inspect them (the crab product rule).
            func event(_ serial: String, _ step: String) -> JSONValue {
                .object([
                    "type": .string("ObjectEvent"), "eventTime": .string("2026-10-01T08:00:00Z"),
                    "eventTimeZoneOffset": .string("+08:00"), "action": .string("OBSERVE"),
                    "epcList": .array([.string("https://id.gs1.org/01/\(Self.crabGTIN)/21/\(serial)")]),
                    "bizStep": .string(step),
                ])
            }
            func document(_ events: [JSONValue]) -> [UInt8] {
                JSONValue.object([
                    "@context": .array([.string("https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld")]),
                    "type": .string("EPCISDocument"), "schemaVersion": .string("2.0"),
                    "creationDate": .string("2026-10-01T08:00:00Z"), "epcisBody": .object(["eventList": .array(events)]),
                ]).canonicalBytes
            }
            let body = document([event("A1", "shipping"), event("A2", "inspecting")])
            let rollback = try await Self.call(env.client, .post, "/v1/epcis/capture", token: env.farmToken, body: body)
            let job1 = try await Self.finished(env.client, try #require(rollback.headers[.location]))
            #expect(job1["success"] == .bool(false), "\(job1)")
            #expect(job1["errors"]?.arrayValue?.first?["type"]?.stringValue == "epcisException:SecurityException")
            #expect(job1["errors"]?.arrayValue?.first?["error"]?["code"]?.stringValue == "role_not_allowed")
            try Self.checkAgainstGS1(job1)

            let proceed = try await Self.call(
                env.client, .post, "/v1/epcis/capture", token: env.farmToken,
                headers: ["GS1-Capture-Error-Behaviour": "proceed"], body: body)
            let job2 = try await Self.finished(env.client, try #require(proceed.headers[.location]))
            #expect(job2["success"] == .bool(false) && job2["captureErrorBehaviour"]?.stringValue == "proceed", "\(job2)")
            #expect(job2["captured"]?.arrayValue?.count == 1)
            let errors = try #require(job2["errors"]?.arrayValue)
            #expect(errors.count == 1 && errors[0]["code"]?.stringValue == "role_not_allowed" && errors[0]["index"] == .int(1))
            try Self.checkAgainstGS1(job2)
            // The lab may inspect: the refused event goes in on its own.
            let lab = try await Self.call(
                env.client, .post, "/v1/epcis/capture", token: env.labToken, body: document([event("A2", "inspecting")]))
            let job3 = try await Self.finished(env.client, try #require(lab.headers[.location]))
            #expect(job3["success"] == .bool(true) && job3["captured"]?.arrayValue?.count == 1, "\(job3)")
        }
    }

    @Test func oneEventIsCreatedOnceAndRefusalsAreProblems() async throws {
        try await withBinding { env in
            let event = JSONValue.object([
                "@context": .array([.object(["ex": .string("https://example.com/ns/")])]),
                "type": .string("ObjectEvent"), "eventTime": .string("2026-10-02T08:00:00Z"),
                "eventTimeZoneOffset": .string("+08:00"), "action": .string("OBSERVE"),
                "epcList": .array([.string("urn:epc:id:sgtin:0614141.107346.9001")]), "ex:note": .string("one"),
            ])
            let created = try await Self.call(
                env.client, .post, "/v1/epcis/events", token: env.farmToken, body: event.canonicalBytes)
            #expect(created.status == .created, "\(created.json)")
            let location = try #require(created.headers[.location])
            let read = try await Self.call(env.client, .get, location)
            #expect(read.status == .ok && read.json["ex:note"]?.stringValue == "one", "\(read.json)")
            let again = try await Self.call(
                env.client, .post, "/v1/epcis/events", token: env.farmToken, body: event.canonicalBytes)
            #expect(again.status == .conflict && again.json["error"]?["code"]?.stringValue == "epcis_duplicate", "\(again.json)")

            let doc = try Self.file("gs1/JSON/Example_9.6.1-ObjectEvent.jsonld")
            // No session: 401, as a problem with the EPCIS exception type and this API's error.
            let anonymous = try await Self.call(env.client, .post, "/v1/epcis/capture", body: doc)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            #expect(anonymous.json["type"]?.stringValue == "epcisException:SecurityException")
            #expect(anonymous.json["status"] == .int(401) && anonymous.json["error"]?["code"]?.stringValue == "unauthenticated")
            // EPCIS 1.2 asked for: 406.
            let old = try await Self.call(
                env.client, .post, "/v1/epcis/capture", token: env.farmToken, headers: ["GS1-EPCIS-Version": "1.2"], body: doc)
            #expect(old.status == .notAcceptable && old.json["error"]?["code"]?.stringValue == "epcis_unsupported_version")
            let oldQuery = try await Self.call(env.client, .get, "/v1/epcis/events", headers: ["GS1-EPCIS-Version": "1.2"])
            #expect(oldQuery.status == .notAcceptable)
            // Another media type: 415; not EPCIS: 400, before anything is signed.
            let text = try await Self.call(
                env.client, .post, "/v1/epcis/capture", token: env.farmToken, type: "text/plain", body: doc)
            #expect(text.status == .unsupportedMediaType && text.json["error"]?["code"]?.stringValue == "unsupported_media_type")
            let invalid = try await Self.call(
                env.client, .post, "/v1/epcis/capture", token: env.farmToken,
                body: JSONValue.object(["type": .string("EPCISDocument")]).canonicalBytes)
            #expect(invalid.status == .badRequest && invalid.json["type"]?.stringValue == "epcisException:ValidationException")
            let badXML = try await Self.call(
                env.client, .post, "/v1/epcis/capture", token: env.farmToken, type: "application/xml",
                body: Array("<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>".utf8))
            #expect(badXML.status == .badRequest && badXML.json["error"]?["code"]?.stringValue == "epcis_invalid")
            let bad = try await Self.call(
                env.client, .post, "/v1/epcis/capture", token: env.farmToken,
                headers: ["GS1-Capture-Error-Behaviour": "maybe"], body: doc)
            #expect(bad.status == .badRequest)
            // Unknown and malformed capture ids.
            let unknown = try await Self.call(env.client, .get, "/v1/epcis/capture/\(String(repeating: "ab", count: 32))")
            #expect(unknown.status == .notFound)
            let malformed = try await Self.call(env.client, .get, "/v1/epcis/capture/xyz")
            #expect(malformed.status == .badRequest)
            // The event, and its refused second capture: nothing else reached the chain.
            #expect(try env.node.store.transactionCount() == 2)
        }
    }

    /// An event whose transaction waits past the timestamp tolerance (no block takes it) answers
    /// 410 `tx_expired` as soon as the mempool drops it, not a 202 after the whole wait; so does
    /// the capture job a 202 would have pointed to.
    @Test func anEventWhoseTransactionExpiresAnswers410AtOnce() async throws {
        // A long wait, so that its end (202 and a job) cannot be mistaken for the answer to the expiry.
        let timeout = Duration.seconds(120)
        try await withBinding(produce: false, maxWait: timeout) { env in
            let event = JSONValue.object([
                "type": .string("ObjectEvent"), "eventTime": .string("2026-10-03T08:00:00Z"),
                "eventTimeZoneOffset": .string("+08:00"), "action": .string("OBSERVE"),
                "epcList": .array([.string("urn:epc:id:sgtin:0614141.107346.9002")]),
            ])
            async let reply = Self.call(env.client, .post, "/v1/epcis/events", token: env.farmToken, body: event.canonicalBytes)
            // (A bound for failures only: a loaded machine was seen to take over 30 s to admit one.)
            let deadline = ContinuousClock.now + .seconds(180)
            while env.node.mempool.count == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            let txid = try #require(env.node.mempool.peek(max: 1).first?.id)
            let started = ContinuousClock.now
            // The node stamped it with its clock: a reading past the tolerance and the margin expires it.
            let later = ChainNode.nowMillis() + env.node.config.timestampToleranceMs + env.node.expiryMarginMs + 1_000
            #expect(env.node.expireStale(nowMillis: later) == [txid])
            let r = try await reply
            #expect(r.status == .gone, "\(r.json)")
            #expect(r.json["error"]?["code"]?.stringValue == "tx_expired" && r.json["status"] == .int(410), "\(r.json)")
            #expect(r.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            #expect(ContinuousClock.now - started < timeout)
            // The job its 202 would have pointed to (no job entry: the events route keeps none).
            let job = try await Self.call(env.client, .get, "/v1/epcis/capture/\(txid.hex)")
            #expect(job.status == .gone && job.json["error"]?["code"]?.stringValue == "tx_expired", "\(job.json)")

            // A capture (202 at once, with a job entry): its job reports the expiry as its error.
            let captured = try await Self.call(
                env.client, .post, "/v1/epcis/capture", token: env.farmToken,
                body: try Self.file("gs1/JSON/Example_9.6.1-ObjectEvent.jsonld"))
            #expect(captured.status == .accepted, "\(captured.json)")
            let location = try #require(captured.headers[.location])
            #expect(try await Self.call(env.client, .get, location).json["running"] == .bool(true))
            let again = ChainNode.nowMillis() + env.node.config.timestampToleranceMs + env.node.expiryMarginMs + 1_000
            #expect(env.node.expireStale(nowMillis: again).count == 1)
            let lost = try await Self.call(env.client, .get, location)
            #expect(lost.status == .ok && lost.json["running"] == .bool(false) && lost.json["success"] == .bool(false))
            #expect(lost.json["errors"]?.arrayValue?.first?["error"]?["code"]?.stringValue == "tx_expired", "\(lost.json)")
            try Self.checkAgainstGS1(lost.json)
        }
    }

    /// Every official GS1 XML capture example (not master data, not capture jobs) passes GS1's
    /// schema of its version; a document the schema refuses is refused with its line.
    @Test func theOfficialXMLExamplesPassGS1sSchemasAndBrokenOnesAreRefused() throws {
        let schemas = try Self.schemas.get()
        let root = Self.testdata.appendingPathComponent("gs1/XML")
        let files = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".xml") && !$0.contains("CaptureJob") && !$0.lowercased().contains("masterdata") }
            .filter { !$0.hasPrefix("CBV/CBV-11.4") }
        #expect(files.count >= 30)
        for file in files {
            let bytes = try Self.file("gs1/XML/\(file)")
            let tree = try XMLReader.parse(bytes)
            #expect(throws: Never.self, "\(file)") { try schemas.check(bytes, namespace: tree.namespace) }
        }
        let good = try Self.file("gs1/XML/Example_9.6.1-ObjectEvent-2020_06_18a.xml")
        let text = String(decoding: good, as: UTF8.self)
        // An element the schema does not allow where it stands, and a missing required one.
        for broken in [
            text.replacingOccurrences(of: "<action>OBSERVE</action>", with: "<action>LOOK</action>"),
            text.replacingOccurrences(of: "<eventTimeZoneOffset>-06:00</eventTimeZoneOffset>", with: ""),
            text.replacingOccurrences(of: "<epcList>", with: "<crabList/><epcList>"),
        ] {
            let bytes = Array(broken.utf8)
            let error = #expect(throws: ChainError.self) {
                try schemas.check(bytes, namespace: "urn:epcglobal:epcis:xsd:2")
            }
            #expect(error?.code == .epcisInvalid && error?.message.contains("line ") == true, "\(error?.message ?? "")")
        }
        #expect(throws: ChainError.self) { try schemas.check(good, namespace: "urn:example:not-epcis") }
        #expect(throws: ChainError.self) { try schemas.check(Array("<x>".utf8), namespace: "urn:epcglobal:epcis:xsd:2") }
        // A directory without the schemas is a configuration error, not a node that skips the check.
        #expect(throws: ChainError.self) { try EPCISXMLSchemas(directory: URL(fileURLWithPath: "/nonexistent")) }
    }

    @Test func xmlCapturesAreCheckedAgainstTheSchemaOrRefusedWithoutOne() async throws {
        let good = try Self.file("gs1/XML/Example_9.6.1-ObjectEvent-2020_06_18a.xml")
        let broken = Array(
            String(decoding: good, as: UTF8.self).replacingOccurrences(
                of: "<action>OBSERVE</action>", with: "<action>LOOK</action>"
            )
            .utf8)
        try await withBinding { env in
            let r = try await Self.call(
                env.client, .post, "/v1/epcis/capture", token: env.farmToken, type: "application/xml", body: broken)
            #expect(r.status == .badRequest && r.json["error"]?["code"]?.stringValue == "epcis_invalid", "\(r.json)")
            #expect(r.json["title"]?.stringValue?.contains("schema") == true)
            #expect(try env.node.store.transactionCount() == 0)
        }
        try await withBinding(xml: false) { env in
            let r = try await Self.call(
                env.client, .post, "/v1/epcis/capture", token: env.farmToken, type: "application/xml", body: good)
            #expect(r.status == .unsupportedMediaType, "\(r.json)")
        }
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    /// Validates a capture job against the `CaptureJob` schema of GS1's REST binding OpenAPI
    /// document (`../shared/testdata/epcis/gs1/REST Bindings/openapi.yaml`), with Python's
    /// jsonschema (installed by scripts/install-deps).
    static func checkAgainstGS1(_ job: JSONValue) throws {
        let spec = testdata.appendingPathComponent("gs1/REST Bindings/openapi.yaml").path
        let script = """
            import json, sys, yaml, jsonschema
            spec = yaml.safe_load(open(sys.argv[1]))
            schema = spec["components"]["schemas"]["CaptureJob"]
            def strip(node):
                if isinstance(node, dict):
                    out = {k: strip(v) for k, v in node.items() if k not in ("xml", "example")}
                    # The schema says "errors or errorFile" as a oneOf of two branches that
                    # require nothing, which every object matches twice: require each branch's
                    # one property, as its description intends.
                    for branch in out.get("oneOf", []):
                        props = branch.get("properties", {})
                        if len(props) == 1 and "required" not in branch:
                            branch["required"] = list(props)
                    return out
                if isinstance(node, list):
                    return [strip(v) for v in node]
                return node
            schema = strip(schema)
            schema["components"] = spec["components"]
            job = json.loads(sys.stdin.read())
            jsonschema.validate(job, schema)
            for key in ("captureID", "running", "success", "captureErrorBehaviour", "errors"):
                assert key in job, key
            print("ok")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, spec]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(job.canonicalBytes))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && text.hasSuffix("ok\n"), "GS1 CaptureJob schema: \(text)")
    }
}

/// The capture-job list (pure logic): bounded, newest first per account, each id's latest entry
/// found directly, an evicted id forgotten.
@Suite struct CaptureJobListTests {
    @Test func keepsTheLatestEntriesFindsEachByIdAndForgetsEvictedOnes() {
        let jobs = CaptureJobs(capacity: 3)
        func entry(_ id: String, _ user: String, _ t: Int64) -> CaptureJobs.Entry {
            CaptureJobs.Entry(id: id, org: "org0", username: user, createdMillis: t)
        }
        jobs.add(entry("a", "u", 1))
        jobs.add(entry("b", "v", 2))
        jobs.add(entry("a", "u", 3))
        #expect(jobs.entry("a")?.createdMillis == 3)
        jobs.add(entry("c", "u", 4))
        // The first "a" left; the later one is still found.
        #expect(jobs.entry("a")?.createdMillis == 3 && jobs.entry("b") != nil)
        jobs.add(entry("d", "u", 5))
        #expect(jobs.entry("b") == nil)
        #expect(jobs.list(org: "org0", username: "u").map(\.id) == ["d", "c", "a"])
        #expect(jobs.list(org: "org1", username: "u").isEmpty)
    }
}
