import Crypto
import _CryptoExtras

/// The slow password KDF: PBKDF2-HMAC-SHA256 with a per-use random salt.
public struct PasswordKDF: Sendable, Equatable {
    /// PBKDF2 iterations.
    public let iterations: Int

    /// The production cost: 310,000 iterations (OWASP 2023 for PBKDF2-HMAC-SHA256).
    public static let production = PasswordKDF(iterations: 310_000)

    /// A KDF with `iterations` rounds (tests use a low cost; production keeps the default).
    public init(iterations: Int) { self.iterations = iterations }

    /// 32 bytes derived from `password` and `salt`.
    public func derive(_ password: String, salt: [UInt8]) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: iterations)
        return key.withUnsafeBytes { Array($0) }
    }

    /// `count` random bytes.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &g) }
    }

    /// Constant-time comparison.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var d: UInt8 = 0
        for i in a.indices { d |= a[i] ^ b[i] }
        return d == 0
    }
}
