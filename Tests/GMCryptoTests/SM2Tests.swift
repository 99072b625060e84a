import Identity
import Testing

@testable import ChainCore

@Suite("SM2 keys and signatures")
struct SM2Tests {
    static let order = TestHex.decode("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123")

    static func minus(_ value: [UInt8], _ small: UInt8) -> [UInt8] {
        var out = value
        var borrow = Int(small)
        for index in stride(from: out.count - 1, through: 0, by: -1) where borrow > 0 {
            let v = Int(out[index]) - borrow
            out[index] = UInt8((v + 256) % 256)
            borrow = v < 0 ? 1 : 0
        }
        return out
    }

    @Test func signAndVerify() throws {
        let key = SM2PrivateKey()
        let message = Array("转账 100 元 to alice".utf8)
        let signature = try key.sign(message: message)
        #expect((8...72).contains(signature.count))
        #expect(signature[0] == 0x30)
        #expect(key.publicKey.verify(signature: signature, message: message))
        #expect(!key.publicKey.verify(signature: signature, message: message + [0]))
        #expect(!SM2PrivateKey().publicKey.verify(signature: signature, message: message))
        // Randomised signatures: two signatures differ, both verify.
        let again = try key.sign(message: message)
        #expect(again != signature)
        #expect(key.publicKey.verify(signature: again, message: message))
    }

    @Test func userIDIsBoundIntoTheSignature() throws {
        let key = SM2PrivateKey()
        let message = Array("payload".utf8)
        let custom = Array("ALICE123@YAHOO.COM".utf8)
        let signature = try key.sign(message: message, userID: custom)
        #expect(key.publicKey.verify(signature: signature, message: message, userID: custom))
        #expect(!key.publicKey.verify(signature: signature, message: message))
        #expect(!key.publicKey.verify(signature: signature, message: message, userID: []))
        let empty = try key.sign(message: message, userID: [])
        #expect(key.publicKey.verify(signature: empty, message: message, userID: []))
        #expect(!key.publicKey.verify(signature: empty, message: message))
        let longest = [UInt8](repeating: 0x41, count: SM2.maxUserIDByteCount)
        let signed = try key.sign(message: message, userID: longest)
        #expect(key.publicKey.verify(signature: signed, message: message, userID: longest))
        #expect(throws: ChainError.self) { try key.sign(message: message, userID: longest + [0x41]) }
        #expect(!key.publicKey.verify(signature: signed, message: message, userID: longest + [0x41]))
    }

    @Test func emptyAndLargeMessages() throws {
        let key = SM2PrivateKey()
        for message in [[], [0], [UInt8](repeating: 0xab, count: 1 << 20)] as [[UInt8]] {
            let signature = try key.sign(message: message)
            #expect(key.publicKey.verify(signature: signature, message: message))
        }
    }

    @Test func rawRepresentationsRoundTrip() throws {
        let key = SM2PrivateKey()
        let raw = key.rawRepresentation
        #expect(raw.count == 32)
        let again = try SM2PrivateKey(rawRepresentation: raw)
        #expect(again.publicKey == key.publicKey)
        let point = key.publicKey.rawRepresentation
        #expect(point.count == 65 && point[0] == 0x04)
        let parsed = try SM2PublicKey(rawRepresentation: point)
        #expect(parsed == key.publicKey)
        #expect(Set([parsed, key.publicKey]).count == 1)
        let signature = try again.sign(message: [1, 2, 3])
        #expect(parsed.verify(signature: signature, message: [1, 2, 3]))
    }

    @Test func pemRepresentationsRoundTrip() throws {
        let key = SM2PrivateKey()
        let pem = key.pemRepresentation
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let again = try SM2PrivateKey(pemRepresentation: pem)
        #expect(again.rawRepresentation == key.rawRepresentation)

        let publicPEM = key.publicKey.pemRepresentation
        #expect(publicPEM.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        #expect(try SM2PublicKey(pemRepresentation: publicPEM) == key.publicKey)
        let der = key.publicKey.derRepresentation
        #expect(try SM2PublicKey(derRepresentation: der) == key.publicKey)
        // SubjectPublicKeyInfo: id-ecPublicKey (1.2.840.10045.2.1) with curve 1.2.156.10197.1.301.
        #expect(der.starts(with: TestHex.decode("3059301306072a8648ce3d020106082a811ccf5501822d034200")))
    }

    @Test func scalarRange() throws {
        let n = Self.order
        #expect(throws: ChainError.self) { try SM2PrivateKey(rawRepresentation: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: ChainError.self) { try SM2PrivateKey(rawRepresentation: n) }
        #expect(throws: ChainError.self) { try SM2PrivateKey(rawRepresentation: Self.minus(n, 1)) }
        #expect(throws: ChainError.self) { try SM2PrivateKey(rawRepresentation: [UInt8](repeating: 0xff, count: 32)) }
        #expect(throws: ChainError.self) { try SM2PrivateKey(rawRepresentation: [UInt8](repeating: 1, count: 31)) }
        #expect(throws: ChainError.self) { try SM2PrivateKey(rawRepresentation: [UInt8](repeating: 1, count: 33)) }
        let one = [UInt8](repeating: 0, count: 31) + [1]
        let g = try SM2PrivateKey(rawRepresentation: one).publicKey.rawRepresentation
        #expect(
            TestHex.encode(g).uppercased()
                == "04" + "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
                + "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0")
        let top = try SM2PrivateKey(rawRepresentation: Self.minus(n, 2))
        let signature = try top.sign(message: [9])
        #expect(top.publicKey.verify(signature: signature, message: [9]))
    }

    @Test func cachedAndUncachedVerificationAgreeUnderConcurrency() async throws {
        let keys = (0..<4).map { _ in SM2PrivateKey() }
        let ids: [[UInt8]] = [SM2.defaultUserID, Array("node-1".utf8), []]
        var cases: [(SM2PublicKey, [UInt8], [UInt8], [UInt8], Bool)] = []
        for (index, key) in keys.enumerated() {
            for id in ids {
                let message = Array("tx \(index)".utf8)
                let signature = try key.sign(message: message, userID: id)
                cases.append((key.publicKey, signature, message, id, true))
                cases.append((key.publicKey, signature, message + [1], id, false))
                cases.append((keys[(index + 1) % keys.count].publicKey, signature, message, id, false))
            }
        }
        let expected = cases.map(\.4)
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for round in 0..<8 {
                for (index, item) in cases.enumerated() {
                    group.addTask {
                        // Alternate user ids on one key, so the prototype cache is replaced under load.
                        let (publicKey, signature, message, id, _) = item
                        _ = round
                        return (index, publicKey.verify(signature: signature, message: message, userID: id))
                    }
                }
            }
            var seen = [[Bool]](repeating: [], count: cases.count)
            for await (index, valid) in group { seen[index].append(valid) }
            return seen
        }
        for (index, answers) in results.enumerated() {
            #expect(answers.allSatisfy { $0 == expected[index] }, "case \(index)")
        }
    }
}
