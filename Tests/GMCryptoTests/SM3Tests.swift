import Identity
import Testing

@testable import ChainCore

@Suite("SM3 and HMAC-SM3")
struct SM3Tests {
    // GB/T 32905-2016, Annex A.
    @Test func standardExampleABC() {
        #expect(TestHex.encode(SM3.hash(Array("abc".utf8))) == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    }

    @Test func standardExample64Bytes() {
        let message = Array(String(repeating: "abcd", count: 16).utf8)
        #expect(message.count == 64)
        #expect(TestHex.encode(SM3.hash(message)) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")
    }

    @Test func emptyMessage() {
        #expect(TestHex.encode(SM3.hash([])) == "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b")
    }

    @Test func incrementalMatchesOneShot() {
        let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let expected = SM3.hash(message)
        for split in [0, 1, 55, 56, 63, 64, 65, 500, 999, 1000] {
            var hasher = SM3.Hasher()
            hasher.update(Array(message[0..<split]))
            hasher.update(Array(message[split...]))
            #expect(hasher.finalize() == expected, "split at \(split)")
        }
    }

    @Test func copyForksTheState() {
        var prefix = SM3.Hasher()
        prefix.update(Array("ab".utf8))
        var fork = prefix.copy()
        prefix.update(Array("c".utf8))
        fork.update(Array("d".utf8))
        #expect(prefix.finalize() == SM3.hash(Array("abc".utf8)))
        #expect(fork.finalize() == SM3.hash(Array("abd".utf8)))
    }

    @Test func hmacChecksAndRejects() {
        let key = Array("key".utf8)
        let data = Array("The quick brown fox jumps over the lazy dog".utf8)
        let tag = HMACSM3.authenticationCode(for: data, key: key)
        #expect(tag.count == 32)
        #expect(HMACSM3.isValidAuthenticationCode(tag, for: data, key: key))
        var bad = tag
        bad[31] ^= 1
        #expect(!HMACSM3.isValidAuthenticationCode(bad, for: data, key: key))
        #expect(!HMACSM3.isValidAuthenticationCode(Array(tag.prefix(16)), for: data, key: key))
        #expect(!HMACSM3.isValidAuthenticationCode(tag, for: data, key: Array("kez".utf8)))
        // Keys longer than the 64-byte block are hashed first (RFC 2104).
        let long = [UInt8](repeating: 7, count: 100)
        #expect(HMACSM3.authenticationCode(for: data, key: long) == HMACSM3.authenticationCode(for: data, key: SM3.hash(long)))
    }
}
