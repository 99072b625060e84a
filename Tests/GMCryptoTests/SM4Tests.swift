import CSMTestSupport
import Identity
import Testing

@testable import ChainCore

@Suite("SM4")
struct SM4Tests {
    static let key = TestHex.decode("0123456789abcdeffedcba9876543210")
    static let zeroIV = [UInt8](repeating: 0, count: 16)

    /// One SM4 block encryption, read off CBC with a zero IV (its first block is E(K, P)).
    static func encryptBlock(_ block: [UInt8], key: [UInt8]) throws -> [UInt8] {
        Array(try SM4.CBC.encrypt(block, key: key, iv: zeroIV).prefix(16))
    }

    // GB/T 32907-2016 Annex A, example 1.
    @Test func standardExample() throws {
        #expect(TestHex.encode(try Self.encryptBlock(Self.key, key: Self.key)) == "681edf34d206965e86b3e94f536e4246")
    }

    // GB/T 32907-2016 Annex A, example 2: the same block encrypted 1,000,000 times.
    @Test func standardMillionRounds() {
        var block = Self.key
        #expect(gm_test_sm4_encrypt_rounds(Self.key, &block, 1_000_000) == 1)
        #expect(TestHex.encode(block) == "595298c7c6fd271f0402f804c33d3f66")
    }

    @Test func cbcRoundTripsEveryLength() throws {
        let key = SM4.generateKey()
        let iv = SM4.generateIV()
        for length in 0...40 {
            let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 7) }
            let ciphertext = try SM4.CBC.encrypt(plaintext, key: key, iv: iv)
            #expect(ciphertext.count == (length / 16 + 1) * 16)
            #expect(try SM4.CBC.decrypt(ciphertext, key: key, iv: iv) == plaintext)
        }
    }

    @Test func cbcRefusesBadInput() throws {
        let key = SM4.generateKey()
        let iv = SM4.generateIV()
        let ciphertext = try SM4.CBC.encrypt(Array("sixteen byte msg".utf8), key: key, iv: iv)
        #expect(throws: ChainError.self) { try SM4.CBC.decrypt([], key: key, iv: iv) }
        #expect(throws: ChainError.self) { try SM4.CBC.decrypt(Array(ciphertext.prefix(17)), key: key, iv: iv) }
        #expect(throws: ChainError.self) { try SM4.CBC.encrypt([1], key: Array(key.prefix(15)), iv: iv) }
        #expect(throws: ChainError.self) { try SM4.CBC.encrypt([1], key: key, iv: Array(iv.prefix(8))) }
        // A wrong key almost always shows as bad padding; either way no crash and no plaintext.
        var wrongKey = key
        wrongKey[0] ^= 0x80
        let result = try? SM4.CBC.decrypt(ciphertext, key: wrongKey, iv: iv)
        #expect(result != Array("sixteen byte msg".utf8))
    }

    @Test func ctrRoundTripAndCounterLayout() throws {
        let key = SM4.generateKey()
        let iv = TestHex.decode("000102030405060708090a0b0c0dfffe")
        let zeros = [UInt8](repeating: 0, count: 48)
        let stream = try SM4.CTR.encrypt(zeros, key: key, iv: iv)
        // The keystream is E(K, IV), E(K, IV+1), E(K, IV+2), the counter a 128-bit big-endian number.
        #expect(Array(stream[0..<16]) == (try Self.encryptBlock(iv, key: key)))
        #expect(Array(stream[16..<32]) == (try Self.encryptBlock(TestHex.decode("000102030405060708090a0b0c0dffff"), key: key)))
        #expect(Array(stream[32..<48]) == (try Self.encryptBlock(TestHex.decode("000102030405060708090a0b0c0e0000"), key: key)))
        for length in [0, 1, 15, 16, 17, 1000] {
            let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
            let ciphertext = try SM4.CTR.encrypt(plaintext, key: key, iv: iv)
            #expect(ciphertext.count == length)
            #expect(try SM4.CTR.decrypt(ciphertext, key: key, iv: iv) == plaintext)
        }
    }
}

@Suite("SM4 sealed box")
struct SealedBoxTests {
    @Test func roundTrip() throws {
        let key = try SM4SealedBox.Key(SM4SealedBox.Key.generateRaw())
        for length in [0, 1, 16, 100, 70_000] {
            let plaintext = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 13) }
            let box = try SM4SealedBox.seal(plaintext, using: key, authenticating: Array("row 42".utf8))
            #expect(box.count == plaintext.count + SM4SealedBox.overhead)
            #expect(box[0] == 1)
            #expect(try SM4SealedBox.open(box, using: key, authenticating: Array("row 42".utf8)) == plaintext)
        }
        // Random IVs: sealing twice gives two different boxes.
        #expect(try SM4SealedBox.seal([1, 2, 3], using: key) != SM4SealedBox.seal([1, 2, 3], using: key))
    }

    @Test func everyChangeIsDetected() throws {
        let key = try SM4SealedBox.Key(SM4SealedBox.Key.generateRaw())
        let box = try SM4SealedBox.seal(Array("ledger entry".utf8), using: key, authenticating: [7])
        for index in 0..<box.count {
            for bit in [0x01, 0x80] as [UInt8] {
                var tampered = box
                tampered[index] ^= bit
                #expect(throws: ChainError.self, "byte \(index)") {
                    try SM4SealedBox.open(tampered, using: key, authenticating: [7])
                }
            }
        }
        #expect(throws: ChainError.self) { try SM4SealedBox.open(box, using: key, authenticating: [8]) }
        #expect(throws: ChainError.self) { try SM4SealedBox.open(box, using: key) }
        #expect(throws: ChainError.self) { try SM4SealedBox.open(Array(box.dropLast()), using: key, authenticating: [7]) }
        #expect(throws: ChainError.self) { try SM4SealedBox.open(box + [0], using: key, authenticating: [7]) }
        #expect(throws: ChainError.self) { try SM4SealedBox.open(Array(box.prefix(48)), using: key) }
        let other = try SM4SealedBox.Key(SM4SealedBox.Key.generateRaw())
        #expect(throws: ChainError.self) { try SM4SealedBox.open(box, using: other, authenticating: [7]) }
    }

    @Test func errorCodes() throws {
        let key = try SM4SealedBox.Key(SM4SealedBox.Key.generateRaw())
        var box = try SM4SealedBox.seal([1], using: key)
        box[0] = 2
        do {
            _ = try SM4SealedBox.open(box, using: key)
            Issue.record("opened a box of version 2")
        } catch {
            #expect(error.code == .unsealFailed)
        }
        box[0] = 1
        box[20] ^= 1
        do {
            _ = try SM4SealedBox.open(box, using: key)
            Issue.record("opened a changed box")
        } catch {
            #expect(error.code == .unsealFailed)
        }
        #expect(throws: ChainError.self) { try SM4SealedBox.Key([UInt8](repeating: 1, count: 16)) }
    }
}
