import API
import ChainCore
import ChainTesting
import Foundation
import Testing

/// The complaint contacts file (phone numbers kept off chain): survives a crash mid-write, keeps
/// phone and text sealed under the node's data key, and seals an older version's file on open.
struct OffchainComplaintsTests {
    static func open(_ dir: URL, suite: CryptoSuite = .ed25519) throws -> OffchainComplaints {
        try OffchainComplaints(
            saltURL: dir.appendingPathComponent("phone-salt"),
            fileURL: dir.appendingPathComponent("data/offchain-complaints.jsonl"),
            suite: suite)
    }

    static func lines(_ dir: URL) throws -> [[String: JSONValue]] {
        let data = try Data(contentsOf: dir.appendingPathComponent("data/offchain-complaints.jsonl"))
        return try data.split(separator: 0x0A).map { try #require(try JSONParser().parse(Array($0)).objectValue) }
    }

    @Test func aTornLastLineDoesNotSwallowTheNextComplaint() async throws {
        try await withTemporaryDirectory { dir in
            let file = dir.appendingPathComponent("data/offchain-complaints.jsonl")
            let store = try Self.open(dir)
            try store.append(txid: "a1", phone: "13900000001", phoneHash: "h1", object: "o", city: "苏州", receivedAt: 1)
            // A crash in the middle of the second line's write.
            let handle = try FileHandle(forWritingTo: file)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(#"{"object":"o","sealed":"AQ"#.utf8))
            try handle.close()
            try store.append(txid: "c3", phone: "13900000003", phoneHash: "h3", object: "o", city: nil, receivedAt: 3)
            try store.append(txid: "d4", phone: "13900000004", phoneHash: "h4", object: "o", city: nil, receivedAt: 4)
            let contacts = try store.contacts()
            #expect(contacts == ["a1": "13900000001", "c3": "13900000003", "d4": "13900000004"])
            let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            // Reopened: the torn fragment is dropped, every complaint is still there.
            #expect(try Self.open(dir).contacts() == contacts)
            #expect(try Self.lines(dir).count == 3)
        }
    }

    @Test(arguments: [CryptoSuite.ed25519, .sm2])
    func phoneAndTextAreSealedWithTheSuitesCipher(suite: CryptoSuite) async throws {
        try await withTemporaryDirectory { dir in
            let store = try Self.open(dir, suite: suite)
            try store.append(
                txid: "a1", phone: "13912345678", phoneHash: "h1", object: "o", city: "苏州", receivedAt: 1, text: "蟹是死的",
                textHash: "t1")
            let raw = try Data(contentsOf: dir.appendingPathComponent("data/offchain-complaints.jsonl"))
            #expect(raw.range(of: Data("13912345678".utf8)) == nil)
            #expect(raw.range(of: Data("蟹是死的".utf8)) == nil)
            let line = try #require(try Self.lines(dir).first)
            #expect(line["phone"] == nil && line["text"] == nil)
            #expect(line["phoneHash"]?.stringValue == "h1" && line["textHash"]?.stringValue == "t1")
            let box = try #require(Data(base64Encoded: line["sealed"]?.stringValue ?? ""))
            #expect(box.first == (suite == .sm2 ? 0x01 : 0x02))
            let entries = try store.entries()
            #expect(entries["a1"]?.phone == "13912345678" && entries["a1"]?.text == "蟹是死的")
            let keyMode =
                try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("data-key").path)[
                    .posixPermissions] as? Int
            #expect(keyMode == 0o600)
        }
    }

    @Test func anOlderVersionsPlaintextFileIsSealedOnOpen() async throws {
        try await withTemporaryDirectory { dir in
            let file = dir.appendingPathComponent("data/offchain-complaints.jsonl")
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            // As the older code wrote it (canonical JSON, phone and text in clear), with a torn line.
            let old =
                #"{"city":"苏州","object":"o","phone":"13900000001","phoneHash":"h1","receivedAt":1,"txid":"a1"}"# + "\n"
                + #"{"object":"o","phone":"13900000002","phoneHash":"h2","receivedAt":2,"text":"太小了","textHash":"t2","txid":"b2"}"#
                + "\n" + #"{"object":"o","phone":"1390000"# + "\n"
            try Data(old.utf8).write(to: file)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
            let store = try Self.open(dir, suite: .sm2)
            let raw = try Data(contentsOf: file)
            for secret in ["13900000001", "13900000002", "1390000", "太小了"] {
                #expect(raw.range(of: Data(secret.utf8)) == nil, "\(secret) still in the file")
            }
            let entries = try store.entries()
            #expect(entries.count == 2)
            #expect(entries["a1"]?.phone == "13900000001" && entries["a1"]?.text == nil)
            #expect(entries["b2"]?.phone == "13900000002" && entries["b2"]?.text == "太小了")
            let lines = try Self.lines(dir)
            #expect(lines.map { $0["city"]?.stringValue } == ["苏州", nil])
            #expect(lines.allSatisfy { $0["sealed"] != nil && $0["phone"] == nil })
            let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(!FileManager.default.fileExists(atPath: file.path + ".sealing"))
            // Opening again changes nothing.
            _ = try Self.open(dir, suite: .sm2)
            #expect(try Data(contentsOf: file) == raw)
        }
    }

    @Test func alteredOrMovedContactsAndAnotherKeyAreNotRead() async throws {
        try await withTemporaryDirectory { dir in
            let store = try Self.open(dir, suite: .sm2)
            try store.append(txid: "a1", phone: "13900000001", phoneHash: "h1", object: "o", city: nil, receivedAt: 1)
            try store.append(txid: "b2", phone: "13900000002", phoneHash: "h2", object: "o", city: nil, receivedAt: 2)
            let file = dir.appendingPathComponent("data/offchain-complaints.jsonl")
            var lines = try Self.lines(dir)
            // b2's sealed contact copied onto a1's line: bound to b2's txid, it does not open there.
            lines[0]["sealed"] = lines[1]["sealed"]
            try Data(lines.flatMap { JSONValue.object($0).canonicalBytes + [0x0A] }).write(to: file)
            #expect(try store.contacts() == ["b2": "13900000002"])
            // A flipped byte in b2's box.
            var box = try #require(Data(base64Encoded: lines[1]["sealed"]?.stringValue ?? ""))
            box[box.count / 2] ^= 0x01
            lines[1]["sealed"] = .string(box.base64EncodedString())
            try Data(lines.flatMap { JSONValue.object($0).canonicalBytes + [0x0A] }).write(to: file)
            #expect(try store.contacts() == [:])
            // Another data key opens nothing of what this one sealed.
            try await withTemporaryDirectory { other in
                let a = try Self.open(other, suite: .sm2)
                try a.append(txid: "c3", phone: "13900000003", phoneHash: "h3", object: "o", city: nil, receivedAt: 3)
                try FileManager.default.removeItem(at: other.appendingPathComponent("data-key"))
                #expect(try Self.open(other, suite: .sm2).contacts() == [:])
            }
        }
    }
}
