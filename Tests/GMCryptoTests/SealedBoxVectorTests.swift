import Foundation
import Testing

@testable import ChainCore

/// The test vector of docs/sealed-box.md, so the format cannot drift unnoticed.
@Suite("SM4 sealed box format")
struct SealedBoxVectorTests {
    static let rawKey = TestHex.decode("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    static let iv = TestHex.decode("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    static let plaintext = Array("XiangChain sealed box".utf8)
    static let aad = Array("tenant=7".utf8)

    @Test func derivedKeysAndBoxMatchTheDocument() throws {
        let key = try SM4SealedBox.Key(Self.rawKey)
        let okm = try HMACSM3.deriveKey(from: Self.rawKey, salt: [], info: SM4SealedBox.info, count: 48)
        #expect(key.encryptionKey == Array(okm[0..<16]))
        #expect(key.macKey == Array(okm[16..<48]))
        let box = try SM4SealedBox.seal(Self.plaintext, using: key, authenticating: Self.aad, iv: Self.iv)
        let expected = try String(
            contentsOfFile: PackagePaths.root.appendingPathComponent("docs/sealed-box.vector").path, encoding: .utf8)
        let lines = Dictionary(
            uniqueKeysWithValues: expected.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                return parts.count == 2 ? (parts[0], parts[1]) : nil
            })
        #expect(TestHex.encode(key.encryptionKey) == lines["sm4_key"])
        #expect(TestHex.encode(key.macKey) == lines["mac_key"])
        #expect(TestHex.encode(box) == lines["box"])
        #expect(try SM4SealedBox.open(box, using: key, authenticating: Self.aad) == Self.plaintext)
    }
}
