import ChainCore
import Node
import Synchronization

/// One-time codes of the consumer coupon flows, kept in this node's memory only.
///
/// A code is 6 random digits for one coupon and one phone (keyed by the coupon and the phone's
/// salted hash: the phone itself is not kept); only a digest of it is stored. It expires after
/// `ttlMs`, is used once, and becomes void after `maxTries` wrong tries. Requesting a new code
/// for the same coupon and phone replaces the old one. At most `capacity` codes are pending:
/// when full, expired codes go first, then the oldest.
public final class OneTimeCodes: Sendable {
    /// How long a code is valid, milliseconds.
    public let ttlMs: Int64
    /// Wrong tries after which a code is void.
    public let maxTries: Int
    /// Most pending codes.
    public let capacity: Int
    private let pepper: [UInt8]
    private struct Pending {
        var digest: Hash256
        var createdAt: Int64
        var wrong: Int
    }
    private let pending = Mutex<[String: Pending]>([:])

    /// A store with these bounds.
    public init(ttlMs: Int64 = 300_000, maxTries: Int = 5, capacity: Int = 10_000) {
        self.ttlMs = max(1, ttlMs)
        self.maxTries = max(1, maxTries)
        self.capacity = max(1, capacity)
        var rng = SystemRandomNumberGenerator()
        pepper = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// The store a node config asks for (`otpTtlSeconds`, `otpMaxTries`, `otpMaxPending`).
    public convenience init(config: NodeConfig) {
        self.init(ttlMs: Int64(config.otpTtlSeconds) * 1000, maxTries: config.otpMaxTries, capacity: config.otpMaxPending)
    }

    /// The key of a coupon and a phone hash.
    public static func key(coupon: String, phoneHash: String) -> String { "\(coupon)\u{0}\(phoneHash)" }

    private func digest(_ key: String, _ code: String) -> Hash256 {
        Hash256.sha256(pepper + Array(key.utf8) + [0] + Array(code.utf8))
    }

    /// How many codes are pending (expired ones included until they are pushed out).
    public var count: Int { pending.withLock { $0.count } }

    /// A new code for `key`, replacing any pending one.
    public func issue(for key: String, now: Int64) -> String {
        var rng = SystemRandomNumberGenerator()
        let n = rng.next(upperBound: UInt64(1_000_000))
        let digits = String(n)
        let code = String(repeating: "0", count: 6 - digits.count) + digits
        let entry = Pending(digest: digest(key, code), createdAt: now, wrong: 0)
        pending.withLock { m in
            if m[key] == nil, m.count >= capacity {
                m = m.filter { now - $0.value.createdAt < ttlMs }
                if m.count >= capacity, let oldest = m.min(by: { $0.value.createdAt < $1.value.createdAt }) {
                    m[oldest.key] = nil
                }
            }
            m[key] = entry
        }
        return code
    }

    /// Voids the pending code of `key` (the message carrying it was not sent).
    public func void(_ key: String) { _ = pending.withLock { $0.removeValue(forKey: key) } }

    /// Uses the code of `key`: succeeds once for the right code within its life; `otp_expired`
    /// (none pending: expired, used or never sent), `otp_wrong` (tries left), `otp_exhausted` (the
    /// try that voids it).
    public func consume(_ code: String, for key: String, now: Int64) throws(ChainError) {
        let d = digest(key, code)
        let outcome: Int = pending.withLock { m in
            guard var e = m[key] else { return -1 }
            guard now - e.createdAt < ttlMs else {
                m[key] = nil
                return -1
            }
            if e.digest == d {
                m[key] = nil
                return 0
            }
            e.wrong += 1
            if e.wrong >= maxTries {
                m[key] = nil
                return -2
            }
            m[key] = e
            return maxTries - e.wrong
        }
        switch outcome {
        case 0: return
        case -1:
            throw ChainError(
                .otpExpired, "no valid code for this coupon and phone: it expired, was used, or was never sent; request a new one"
            )
        case -2: throw ChainError(.otpExhausted, "too many wrong codes: this code is void; request a new one")
        default: throw ChainError(.otpWrong, "wrong code; \(outcome) tries left")
        }
    }
}
