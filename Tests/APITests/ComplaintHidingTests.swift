import API
import ChainCore
import ChainTesting
import Foundation
import Testing

/// Hiding a complaint's text (issue 12, item 6) and adopting another node's complaint contact
/// (item 7), on the real complaint file.
struct ComplaintHidingTests {
    static let txid = String(repeating: "ab", count: 32)

    @Test func hidingRemovesTheTextAndKeepsTheRest() async throws {
        try await withTemporaryDirectory { dir in
            let store = try OffchainComplaintsTests.open(dir)
            try store.append(
                txid: Self.txid, phone: "13687654321", phoneHash: "h", object: "o", city: "上海", receivedAt: 5,
                text: "蟹是死的 32050019900101123X", textHash: "t")
            #expect(
                errorCode { try store.hide(txid: String(repeating: "cd", count: 32), by: "x", reason: "r", at: 1 as Int64) }
                    == "not_found")
            #expect(try store.hide(txid: Self.txid, by: "org0/desk", reason: "含身份证号", at: 9))
            #expect(try store.hide(txid: Self.txid, by: "org0/desk", reason: "again", at: 10) == false)
            for s in [store, try OffchainComplaintsTests.open(dir)] {
                let r = try #require(s.records()[Self.txid])
                #expect(r["text"] == nil && r["phone"]?.stringValue == "13687654321")
                #expect(r["hiddenAt"]?.int64Value == 9 && r["hiddenBy"]?.stringValue == "org0/desk")
                #expect(r["hideReason"]?.stringValue == "含身份证号" && r["textHash"]?.stringValue == "t")
                #expect(try s.entries()[Self.txid]?.text == nil)
            }
            // The reason is sealed like the phone: not in the file in clear.
            let file = try String(contentsOf: dir.appendingPathComponent("data/offchain-complaints.jsonl"), encoding: .utf8)
            #expect(!file.contains("含身份证号") && !file.contains("13687654321") && file.contains("hiddenAt"))
        }
    }

    @Test func anotherNodesComplaintIsAdoptedOnceAndItsHidingFollows() async throws {
        try await withTemporaryDirectory { dir in
            let store = try OffchainComplaintsTests.open(dir)
            let record: [String: JSONValue] = [
                "txid": .string(Self.txid), "phone": .string("13687654321"), "phoneHash": .string("h"),
                "object": .string("o"), "receivedAt": .int(5), "text": .string("蟹是死的"), "textHash": .string("t"),
                "extra": .string("dropped"),
            ]
            #expect(try store.adopt(record))
            #expect(try store.adopt(record) == false)
            #expect(store.records()[Self.txid]?["text"]?.stringValue == "蟹是死的")
            #expect(store.records()[Self.txid]?["extra"] == nil)
            var hidden = record
            hidden["text"] = nil
            hidden["hiddenAt"] = .int(9)
            hidden["hiddenBy"] = .string("org0/desk")
            hidden["hideReason"] = .string("r")
            #expect(try store.adopt(hidden))
            #expect(store.records()[Self.txid]?["text"] == nil)
            // A record that shows the text again does not bring it back.
            #expect(try store.adopt(record) == false)
            #expect(store.records()[Self.txid]?["hiddenAt"]?.int64Value == 9)
            // Hostile records.
            for bad: [String: JSONValue] in [
                ["txid": .string("../../etc"), "phone": .string("1")], ["txid": .string(Self.txid)],
                ["phone": .string("13687654321")],
                ["txid": .string(Self.txid), "phone": .string(String(repeating: "1", count: 40))],
            ] {
                #expect(errorCode { try store.adopt(bad) } == "bad_args")
            }
            #expect(store.records().count == 1)
        }
    }
}
