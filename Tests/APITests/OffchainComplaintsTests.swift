import API
import ChainCore
import ChainTesting
import Foundation
import Testing

/// The complaint contacts file (phone numbers kept off chain) survives a crash mid-write.
struct OffchainComplaintsTests {
    @Test func aTornLastLineDoesNotSwallowTheNextComplaint() async throws {
        try await withTemporaryDirectory { dir in
            let file = dir.appendingPathComponent("data/offchain-complaints.jsonl")
            let store = try OffchainComplaints(saltURL: dir.appendingPathComponent("phone-salt"), fileURL: file)
            try store.append(txid: "a1", phone: "13900000001", phoneHash: "h1", object: "o", city: "苏州", receivedAt: 1)
            // A crash in the middle of the second line's write.
            let handle = try FileHandle(forWritingTo: file)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(#"{"object":"o","phone":"1390000"#.utf8))
            try handle.close()
            try store.append(txid: "c3", phone: "13900000003", phoneHash: "h3", object: "o", city: nil, receivedAt: 3)
            try store.append(txid: "d4", phone: "13900000004", phoneHash: "h4", object: "o", city: nil, receivedAt: 4)
            let contacts = try store.contacts()
            #expect(contacts == ["a1": "13900000001", "c3": "13900000003", "d4": "13900000004"])
            let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
    }
}
