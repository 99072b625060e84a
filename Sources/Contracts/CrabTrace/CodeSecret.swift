import ChainCore

/// The short secret printed with each code, and the salted hash the chain keeps of it.
///
/// `secretHash = hex(SHA-256("XIANGCHAIN-CODE-V1" ‖ 0x00 ‖ canonical key ‖ 0x00 ‖ secret))`, where
/// the canonical key is `GS1Key.canonical` and the secret is upper-case Crockford base32. The key
/// salts the hash: knowing a serial, or another code's secret, does not give a valid code.
public enum CodeSecret {
    /// Crockford base32 (no I, L, O, U).
    public static let alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    /// Length of generated secrets (40 bits).
    public static let defaultLength = 8
    /// Shortest secret accepted.
    public static let minLength = 6
    /// Longest secret accepted.
    public static let maxLength = 16
    /// Domain separation tag of the hash.
    public static let domain = "XIANGCHAIN-CODE-V1"

    /// The salted hash of `secret` for `key`, 64 lowercase hex characters.
    public static func hash(key: GS1Key, secret: String) -> String {
        var bytes = Array(domain.utf8)
        bytes.append(0)
        bytes += Array(key.canonical.utf8)
        bytes.append(0)
        bytes += Array(secret.uppercased().utf8)
        return Hash256.sha256(bytes).hex
    }

    /// A fresh secret drawn from `rng`.
    public static func generate(length: Int = defaultLength, using rng: inout some RandomNumberGenerator) -> String {
        let chars = Array(alphabet)
        return String((0..<length).map { _ in chars[Int(rng.next(upperBound: UInt64(chars.count)))] })
    }
}

/// One code made for printing: the key, its secret, the URI and short code to print, and the hash to commission.
public struct GeneratedCode: Sendable, Hashable {
    /// The object key.
    public let key: GS1Key
    /// The secret (print it; never send it to the chain).
    public let secret: String
    /// The Digital Link URI with the secret, for the QR code.
    public let uri: String
    /// The short code with the secret, for typing.
    public let shortCode: String
    /// The salted hash to put on chain (`commission_rings` / `issue_coupons`).
    public let secretHash: String
}

/// Makes printable codes with secrets (for the association's CLI): deterministic with an
/// injected generator in tests, `SystemRandomNumberGenerator` in production.
public struct CodeGenerator {
    /// The resolver host printed in URIs.
    public let resolver: String

    /// Creates a generator for `resolver`.
    public init(resolver: String) { self.resolver = resolver }

    /// Most codes made by one call.
    public static let maxBatch = 100_000

    /// Ring codes for `gtin` with serials `prefix + n` for each `n` in `serials` (zero-padded to `width`).
    public func rings(
        gtin: String, serials: ClosedRange<Int>, prefix: String = "", width: Int = 0, using rng: inout some RandomNumberGenerator
    ) throws(ChainError) -> [GeneratedCode] {
        let g = try GS1Key.checkedGTIN(gtin)
        guard serials.lowerBound >= 0, serials.count <= Self.maxBatch else {
            throw ChainError(.badArgs, "serials must be non-negative and at most \(Self.maxBatch) per batch")
        }
        var out: [GeneratedCode] = []
        for n in serials {
            let digits = String(n)
            let serial = prefix + String(repeating: "0", count: max(0, width - digits.count)) + digits
            out.append(make(.sgtin(gtin: g, serial: try GS1Key.checkedSerial(serial)), using: &rng))
        }
        return out
    }

    /// Coupon codes: GCN base (12 digits: company prefix + coupon reference; the check digit is
    /// added) followed by serials `n` zero-padded to `width` (≤ 12 digits).
    public func coupons(
        base12: String, serials: ClosedRange<Int>, width: Int = 6, using rng: inout some RandomNumberGenerator
    ) throws(ChainError) -> [GeneratedCode] {
        guard base12.utf8.count == 12, let base = GS1Key.appendingCheckDigit(base12) else {
            throw ChainError(.badArgs, "a GCN base is 12 digits (company prefix + coupon reference)")
        }
        guard serials.lowerBound >= 0, serials.count <= Self.maxBatch, (1...12).contains(width),
            String(serials.upperBound).count <= width
        else {
            throw ChainError(.badArgs, "coupon serials must fit \(width) digits and at most \(Self.maxBatch) per batch")
        }
        var out: [GeneratedCode] = []
        for n in serials {
            let digits = String(n)
            let gcn = base + String(repeating: "0", count: width - digits.count) + digits
            out.append(make(.gcn(try GS1Key.checkedGCN(gcn)), using: &rng))
        }
        return out
    }

    /// One code for `key` with a fresh secret.
    public func make(_ key: GS1Key, using rng: inout some RandomNumberGenerator) -> GeneratedCode {
        let secret = CodeSecret.generate(using: &rng)
        return GeneratedCode(
            key: key, secret: secret, uri: DigitalLink.uri(key, resolver: resolver, secret: secret),
            shortCode: DigitalLink.shortCode(key, secret: secret), secretHash: CodeSecret.hash(key: key, secret: secret))
    }
}
