import ChainCore
import EPCIS
import Foundation
import Testing

/// EPCIS XML documents hash like their JSON-LD twins and match the reference vectors.
@Suite struct EPCISXMLTests {
    /// The vectors kept with the tests (`Vectors/README.md`).
    static let vectorRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")

    /// A vector file: in the shared material (`shared/<folder>/…`, under `event-hash/`) or kept
    /// here (`own/<path under Vectors>`).
    static func url(_ path: String) -> URL {
        if path.hasPrefix("own/") { return vectorRoot.appendingPathComponent(String(path.dropFirst(4))) }
        return EPCISTestData.root.appendingPathComponent("event-hash/" + path.dropFirst(7))
    }

    /// The `.ext` files of the shared `event-hash/<folder>` and of our `Vectors/<own>`.
    static func files(_ folder: String, _ ext: String, own: String? = nil) -> [String] {
        let list: (URL, String) -> [String] = { dir, tag in
            ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix("." + ext) }.sorted()
                .map { tag + $0 }
        }
        let ownFolder = own ?? "epcis-event-hash-generator/" + folder
        return list(EPCISTestData.root.appendingPathComponent("event-hash/" + folder), "shared/\(folder)/")
            + list(vectorRoot.appendingPathComponent(ownFolder), "own/\(ownFolder)/")
    }

    static func stem(_ path: String) -> String { String(path[..<(path.lastIndex(of: ".") ?? path.endIndex)]) }

    static func lines(_ path: String) -> [String]? {
        guard let d = try? Data(contentsOf: url(path)) else { return nil }
        return String(decoding: d, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
    }

    static func xmlEvents(_ path: String) throws -> [EPCISEvent] {
        try EPCISXML.events(Array(try Data(contentsOf: url(path))))
    }

    static func jsonEvents(_ path: String) throws -> [EPCISEvent] {
        let doc = try JSONParser().parse(Array(try Data(contentsOf: url(path))))
        return EPCISEventHashTests.events(doc)
    }

    /// Every XML example that has reference hashes.
    static let xmlVectors = files("examples", "xml").filter { lines(stem($0) + ".hashes") != nil }
    /// JSON-LD examples kept here (the shared ones are `EPCISEventHashTests`' job).
    /// Also `generated/`: documents written for edge cases (parentID, Digital Link on other hosts,
    /// error declarations), hashed by the reference implementation at the same commit.
    static let ownJSONVectors = (files("examples", "jsonld") + files("none", "jsonld", own: "generated")).filter {
        $0.hasPrefix("own/") && lines(stem($0) + ".hashes") != nil
    }

    @Test func thereAreVectors() {
        #expect(Self.xmlVectors.count == 17)
        #expect(Self.ownJSONVectors.count == 6)
    }

    static func check(_ path: String, _ events: [EPCISEvent]) {
        let expected = lines(stem(path) + ".hashes") ?? []
        let pre = lines(stem(path) + ".prehashes") ?? []
        #expect(events.count == expected.count, "\(path): \(events.count) events, \(expected.count) hashes")
        for (i, e) in events.enumerated() where i < expected.count {
            #expect(
                e.hash == expected[i],
                "\(path)#\(i)\n ours: \(EPCISEventHash.preHash(e))\n ref:  \(i < pre.count ? pre[i] : "(no prehash)")")
        }
    }

    @Test(arguments: xmlVectors)
    func xmlHashesMatchTheReference(path: String) throws {
        Self.check(path, try Self.xmlEvents(path))
    }

    @Test(arguments: ownJSONVectors)
    func keptJSONHashesMatchTheReference(path: String) throws {
        Self.check(path, try Self.jsonEvents(path))
    }

    /// Every XML example with a JSON-LD twin gives the same hashes, event by event.
    @Test func xmlAndJSONTwinsHashTheSame() throws {
        var twins = 0
        for xml in Self.files("examples", "xml") {
            let json = Self.stem(xml) + ".jsonld"
            guard FileManager.default.fileExists(atPath: Self.url(json).path) else { continue }
            twins += 1
            let a = try Self.xmlEvents(xml).map(\.hash)
            let b = try Self.jsonEvents(json).map(\.hash)
            #expect(a == b, "\(xml)")
        }
        #expect(twins == 11)
    }

    @Test func expectedEqualGroupsHashEqual() throws {
        let groups = Self.files("expected_equal", "xml")
        #expect(groups.count == 10)
        for path in groups {
            let events = try Self.xmlEvents(path)
            #expect(events.count >= 2, "\(path)")
            #expect(Set(events.map(\.hash)).count == 1, "\(path): \(Set(events.map(\.hash)).count) distinct hashes")
        }
    }

    /// Every official GS1 XML example that carries events is read (capture-job and master-data
    /// documents have none); events that also come as JSON-LD are compared in the twin test.
    @Test func officialXMLExamplesAreRead() throws {
        let base = EPCISTestData.root.appendingPathComponent("gs1/XML")
        let paths = (FileManager.default.enumerator(atPath: base.path)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".xml") }.sorted()
        #expect(paths.count == 37)
        var events = 0
        for p in paths {
            let bytes = Array(try Data(contentsOf: base.appendingPathComponent(p)))
            do {
                events += try EPCISXML.events(bytes).count
            } catch {
                let eventless = p.hasPrefix("CaptureJob/") || p.contains("asterData") || p.hasPrefix("CBV/CBV-11.4")
                #expect(eventless && error.message.contains("no EventList"), "\(p): \(error)")
            }
        }
        #expect(events >= 60)
    }

    static func doc(_ body: String) -> [UInt8] {
        Array(
            """
            <epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:ex="https://ns.example.com/epcis/" \
            schemaVersion="2.0" creationDate="2020-01-01T00:00:00Z"><EPCISBody><EventList>\(body)</EventList></EPCISBody></epcis:EPCISDocument>
            """.utf8)
    }

    static let event =
        "<ObjectEvent><eventTime>2020-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>"
        + "<epcList><epc>urn:epc:id:sgtin:0614141.107346.1</epc></epcList><action>OBSERVE</action>"
        + "<ex:note a=\"1\">hi &amp; <![CDATA[<there>]]></ex:note></ObjectEvent>"

    @Test func readsEntitiesCDATAAndAttributes() throws {
        let events = try EPCISXML.events(Self.doc(Self.event))
        #expect(events.count == 1)
        #expect(events.first?.json["ex:note"] == .object(["a": .string("1"), "#text": .string("hi & <there>")]))
        #expect(EPCISEventHash.preHash(events[0]).hasSuffix("{https://ns.example.com/epcis/}note=hi & <there>a=1"))
    }

    /// `xsi:type` types an XML value; the JSON-LD twin types it with the value: same hash.
    @Test func schemaInstanceAttributesAreNotData() throws {
        let typed = Self.event.replacingOccurrences(
            of: "<ex:note a=\"1\">hi &amp; <![CDATA[<there>]]></ex:note>",
            with: "<ex:n xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"xsd:double\">10.0</ex:n>")
        let xml = try #require(try EPCISXML.events(Self.doc(typed)).first)
        #expect(xml.json["ex:n"] == .string("10.0"))
        var json = xml.json
        json["ex:n"] = .number("10")
        #expect(EPCISEvent(index: 0, json: json, namespaces: xml.namespaces).hash == xml.hash)
    }

    /// EPCIS 1.2 wraps later fields in `extension`/`baseExtension` (and TransformationEvent in an
    /// `extension` of the event list): the same event as 2.0 writes it, the same hash.
    @Test func version12WrappersAreDissolved() throws {
        let body20 =
            "<TransformationEvent><eventTime>2020-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>"
            + "<eventID>urn:uuid:1</eventID><inputEPCList><epc>urn:epc:id:sgtin:0614141.107346.1</epc></inputEPCList>"
            + "<outputQuantityList><quantityElement><epcClass>urn:epc:class:lgtin:0614141.107346.L1</epcClass>"
            + "<quantity>2.50</quantity><uom>KGM</uom></quantityElement></outputQuantityList></TransformationEvent>"
        let body12 =
            "<extension><TransformationEvent><eventTime>2020-01-01T01:00:00+01:00</eventTime>"
            + "<eventTimeZoneOffset>+00:00</eventTimeZoneOffset><baseExtension><eventID>urn:uuid:2</eventID></baseExtension>"
            + "<inputEPCList><epc>https://id.gs1.org/01/10614141073464/21/1</epc></inputEPCList><extension>"
            + "<outputQuantityList><quantityElement><epcClass>https://example.com/01/10614141073464/10/L1</epcClass>"
            + "<quantity>2.5</quantity><uom>KGM</uom></quantityElement></outputQuantityList></extension>"
            + "</TransformationEvent></extension>"
        let a = try #require(try EPCISXML.events(Self.doc(body20)).first)
        let b = try #require(try EPCISXML.events(Self.doc(body12)).first)
        #expect(b.type == "TransformationEvent" && b.eventID == "urn:uuid:2")
        #expect(a.hash == b.hash)
    }

    /// A clashing prefix (the document binds `gs1` elsewhere) gets a fresh one; the hash sees the IRI.
    @Test func clashingPrefixesAreRenamed() throws {
        let body = Self.event.replacingOccurrences(of: "ex:note", with: "gs1:note")
            .replacingOccurrences(of: "<ObjectEvent>", with: "<ObjectEvent xmlns:gs1=\"https://other.example/\">")
        let e = try #require(try EPCISXML.events(Self.doc(body)).first)
        #expect(EPCISEventHash.preHash(e).contains("{https://other.example/}note="))
    }

    @Test(arguments: [
        ("<!DOCTYPE x [<!ENTITY a \"b\">]><x/>", "document type"),
        ("<!DOCTYPE x [<!ENTITY a SYSTEM \"file:///etc/passwd\">]><x>&a;</x>", "internal subset"),
        ("<!DOCTYPE x", "unterminated"),
        ("<!ELEMENT x ANY><x/>", "declarations"),
        ("<a><b></a>", "closes"),
        ("<a>&bogus;</a>", "entity"),
        ("<a>&#0;</a>", "entity"),
        ("<a x='1' x='2'/>", "repeated"),
        ("<p:a/>", "undeclared"),
        ("<a>", "end of input"),
        ("<a/><b/>", "after the root"),
        ("", "no root"),
        ("<a b='<'/>", "'<'"),
        ("<a><!-- open", "comment"),
    ])
    func malformedXMLIsRefused(input: String, what: String) {
        do {
            _ = try XMLReader.parse(Array(input.utf8))
            Issue.record("accepted \(input)")
        } catch {
            #expect(error.code == .epcisInvalid)
            #expect(error.message.contains(what), "\(error.message)")
        }
    }

    @Test func resourcesAreBounded() {
        let deep = String(repeating: "<a>", count: 10_000) + String(repeating: "</a>", count: 10_000)
        #expect(throws: ChainError.self) { try XMLReader.parse(Array(deep.utf8)) }
        let wide = "<r>" + String(repeating: "<a/>", count: 300) + "</r>"
        #expect(throws: ChainError.self) { try XMLReader.parse(Array(wide.utf8), limits: XMLLimits(maxElements: 100)) }
        #expect(throws: ChainError.self) { try XMLReader.parse(Array(wide.utf8), limits: XMLLimits(maxBytes: 100)) }
        #expect(throws: ChainError.self) { try EPCISXML.events(Array("<r><a/></r>".utf8)) }
    }
}
