import CSMTestSupport
import Foundation
import Identity
import Testing

@testable import ChainCore

@Suite("Hostile inputs")
struct HostileInputTests {
    static let key = SM2PrivateKey()
    static let message = Array("transfer 100".utf8)
    static let signature = try! key.sign(message: message)
    static let n = TestHex.decode("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123")
    static let p = TestHex.decode("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF")

    /// r and s of the valid signature, read back from its DER.
    static var rs: ([UInt8], [UInt8]) {
        let body = Array(signature.dropFirst(2))
        let rLength = Int(body[1])
        let r = Array(body[2..<(2 + rLength)])
        let rest = Array(body[(2 + rLength)...])
        return (r, Array(rest[2...]))
    }

    static func verify(_ signature: [UInt8]) -> Bool {
        key.publicKey.verify(signature: signature, message: message)
    }

    @Test func validBaseline() {
        #expect(Self.verify(Self.signature))
        #expect(DER.signature(r: Self.rs.0, s: Self.rs.1) == Self.signature)
    }

    @Test func malformedDER() {
        let (r, s) = Self.rs
        let good = Self.signature
        var cases: [[UInt8]] = [
            [], [0x30], [0x30, 0x00], [0x30, 0x02, 0x02, 0x00], [UInt8](repeating: 0, count: 64), r + s,
            Array(good.dropLast()), good + [0x00], good + good,
            [0x31] + good.dropFirst(),  // SET instead of SEQUENCE
            [0x30, 0x81, UInt8(good.count - 2)] + good.dropFirst(2),  // long-form length (BER, not DER)
            [0x30, 0x80] + good.dropFirst(2) + [0x00, 0x00],  // indefinite length
            DER.sequence([0x02, UInt8(r.count + 1), 0x00] + r.drop(while: { $0 == 0 }) + DER.integer(s)),  // non-minimal r
            [UInt8](repeating: 0x30, count: 200),
        ]
        var wrongLength = good
        wrongLength[1] &+= 1
        cases.append(wrongLength)
        // r encoded as a negative number (high bit set without the 0x00 pad).
        if r.count == 33 { cases.append(DER.sequence([0x02, 0x20] + r.dropFirst() + DER.integer(s))) }
        for signature in cases {
            #expect(!Self.verify(signature), "\(TestHex.encode(signature))")
        }
    }

    @Test func scalarsOutOfRange() {
        let (r, s) = Self.rs
        let zero: [UInt8] = [0]
        let nPlusR = Self.add(Self.n, r)
        for (rr, ss) in [
            (zero, s), (r, zero), (Self.n, s), (r, Self.n), (Self.p, s), (r, Self.p),
            ([UInt8](repeating: 0xff, count: 32), s), ([1] + [UInt8](repeating: 0, count: 32), s), (nPlusR, s),
        ] {
            #expect(!Self.verify(DER.signature(r: rr, s: ss)))
        }
        // (r, n - s) is another signature, and not a valid one.
        #expect(!Self.verify(DER.signature(r: r, s: Self.subtract(Self.n, s))))
    }

    @Test func wrongUserIDAndMessage() {
        #expect(
            !Self.key.publicKey.verify(signature: Self.signature, message: Self.message, userID: Array("1234567812345679".utf8)))
        #expect(!Self.key.publicKey.verify(signature: Self.signature, message: Self.message, userID: []))
        #expect(!Self.key.publicKey.verify(signature: Self.signature, message: []))
    }

    @Test func foreignSignaturesAndKeys() throws {
        for algorithm in ["P-256", "ED25519"] {
            var signature = [UInt8](repeating: 0, count: 128)
            var signatureLength = signature.count
            var publicKey = [UInt8](repeating: 0, count: 133)
            var publicLength = publicKey.count
            #expect(
                gm_test_foreign_signature(
                    algorithm, Self.message, Self.message.count, &signature, &signatureLength, &publicKey, &publicLength)
                    == 1)
            signature = Array(signature.prefix(signatureLength))
            publicKey = Array(publicKey.prefix(publicLength))
            #expect(!Self.verify(signature), "\(algorithm) signature")
            // The foreign public key is no SM2 key: a P-256 point is off the SM2 curve, an Ed25519 key has 32 bytes.
            #expect(throws: ChainError.self, "\(algorithm) key") { try SM2PublicKey(rawRepresentation: publicKey) }
        }
    }

    @Test func publicKeysOffTheCurve() throws {
        let point = Self.key.publicKey.rawRepresentation
        var offCurve = point
        offCurve[64] ^= 0x01
        var compressedPrefix = point
        compressedPrefix[0] = 0x02
        let cases: [[UInt8]] = [
            [], [0x00], [0x04], offCurve, compressedPrefix, Array(point.dropLast()), point + [0],
            [0x04] + Self.p + Array(point[33...]),  // x = p, out of the field
            [0x04] + [UInt8](repeating: 0xff, count: 64), [0x04] + [UInt8](repeating: 0, count: 64),
            Array(point.dropFirst()),  // 64 bytes without the prefix
        ]
        for bytes in cases {
            do {
                _ = try SM2PublicKey(rawRepresentation: bytes)
                Issue.record("accepted \(TestHex.encode(bytes))")
            } catch {
                #expect(error.code.rawValue == "bad_key")
            }
        }
        #expect(throws: ChainError.self) { try SM2PublicKey(derRepresentation: [0x30, 0x00]) }
        #expect(throws: ChainError.self) { try SM2PublicKey(derRepresentation: Self.key.publicKey.derRepresentation + [0]) }
        #expect(throws: ChainError.self) {
            try SM2PublicKey(pemRepresentation: "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----")
        }
    }

    @Test func malformedPrivateKeyPEM() {
        let pem = Self.key.pemRepresentation
        for text in ["", "garbage", String(pem.prefix(60)), pem.replacingOccurrences(of: "M", with: "!")] {
            #expect(throws: ChainError.self) { try SM2PrivateKey(pemRepresentation: text) }
        }
    }

    @Test func randomMutationsNeverCrash() throws {
        var generator = SystemRandomNumberGenerator()
        var accepted: [[UInt8]] = []
        for _ in 0..<2000 {
            var mutated = Self.signature
            // 1 to 3 distinct positions, each changed: two flips of one byte could cancel out and
            // give back the valid signature (about one run in fifteen did).
            let positions = Array(0..<mutated.count).shuffled(using: &generator).prefix(Int.random(in: 1...3, using: &generator))
            for position in positions { mutated[position] ^= UInt8.random(in: 1...255, using: &generator) }
            precondition(mutated != Self.signature)
            if Self.verify(mutated) { accepted.append(mutated) }
        }
        #expect(accepted.isEmpty, "accepted: \(accepted.map(TestHex.encode))")
        let der = PKI.leaf.derRepresentation
        for _ in 0..<300 {
            var mutated = der
            mutated[Int.random(in: 0..<mutated.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
            if let cert = try? SM2Certificate(derRepresentation: mutated) {
                _ = cert.isIssued(by: PKI.root.certificate)
            }
        }
    }

    static func add(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 33)
        var carry = 0
        let a = [UInt8](repeating: 0, count: 33 - a.count) + a
        let b = [UInt8](repeating: 0, count: 33 - b.count) + b
        for index in stride(from: 32, through: 0, by: -1) {
            let sum = Int(a[index]) + Int(b[index]) + carry
            out[index] = UInt8(sum & 0xff)
            carry = sum >> 8
        }
        return out
    }

    static func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        let a = [UInt8](repeating: 0, count: 33 - a.count) + a
        let b = [UInt8](repeating: 0, count: 33 - b.count) + b
        var out = [UInt8](repeating: 0, count: 33)
        var borrow = 0
        for index in stride(from: 32, through: 0, by: -1) {
            let difference = Int(a[index]) - Int(b[index]) - borrow
            out[index] = UInt8((difference + 256) & 0xff)
            borrow = difference < 0 ? 1 : 0
        }
        return out
    }
}
