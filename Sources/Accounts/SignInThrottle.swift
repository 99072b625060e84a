import ChainCore
import Synchronization

/// Refused because of too many failed sign-ins; `retryAfter` seconds remain.
public struct SignInThrottled: Error, Sendable {
    /// Seconds until this source may try again.
    public let retryAfter: Int64
}

/// Slows password guessing without handing anyone a way to lock others out, and without telling
/// which accounts exist.
///
/// Failures are counted per account name *and* client address: after `maxFailures` failures
/// from one address, that address may not try that account for `blockMillis` — the account's
/// owner, signing in from elsewhere, is not affected. An address that fails on more than
/// `maxNamesPerSource` different names within the window is blocked from signing in at all
/// (credential stuffing). Known and unknown names are counted alike, so the answers are the same
/// for both. The check and the count are one step under one lock.
public final class SignInThrottle: Sendable {
    /// Failures from one address on one account before that address is blocked for it.
    public static let maxFailures = 5
    /// Different names one address may fail on within the window.
    public static let maxNamesPerSource = 20
    /// How long a block lasts, and the window failures are counted in.
    public static let blockMillis: Int64 = 15 * 60_000
    /// Entries kept (oldest dropped beyond it): bounded memory whatever the attacker sends.
    public static let maxEntries = 100_000

    struct Entry {
        var failures: Int
        var firstAt: Int64
        var blockedUntil: Int64
    }

    struct State {
        var byAccount: [String: Entry] = [:]
        var namesBySource: [String: (names: Set<String>, firstAt: Int64, blockedUntil: Int64)] = [:]
    }

    private let state = Mutex(State())

    /// An empty throttle.
    public init() {}

    static func key(_ org: String, _ username: String, _ source: String) -> String { "\(org)\u{0}\(username)\u{0}\(source)" }

    /// Throws `SignInThrottled` when `source` may not try `org/username` now.
    public func check(org: String, username: String, source: String, now: Int64) throws(SignInThrottled) {
        let wait: Int64? = state.withLock { s in
            if let src = s.namesBySource[source], src.blockedUntil > now { return src.blockedUntil - now }
            if let e = s.byAccount[Self.key(org, username, source)], e.blockedUntil > now { return e.blockedUntil - now }
            return nil
        }
        if let wait { throw SignInThrottled(retryAfter: (wait + 999) / 1000) }
    }

    /// Counts a failure; returns the block's length in seconds when this failure started one.
    @discardableResult
    public func recordFailure(org: String, username: String, source: String, now: Int64) -> Int64? {
        state.withLock { s in
            if s.byAccount.count >= Self.maxEntries { Self.evict(&s, now: now) }
            let k = Self.key(org, username, source)
            var e = s.byAccount[k] ?? Entry(failures: 0, firstAt: now, blockedUntil: 0)
            if now - e.firstAt > Self.blockMillis { e = Entry(failures: 0, firstAt: now, blockedUntil: 0) }
            e.failures += 1
            var blocked: Int64?
            if e.failures >= Self.maxFailures {
                e.blockedUntil = now + Self.blockMillis
                e.failures = 0
                e.firstAt = now
                blocked = Self.blockMillis / 1000
            }
            s.byAccount[k] = e
            var src = s.namesBySource[source] ?? (names: [], firstAt: now, blockedUntil: 0)
            if now - src.firstAt > Self.blockMillis { src = (names: [], firstAt: now, blockedUntil: 0) }
            src.names.insert("\(org)/\(username)")
            if src.names.count > Self.maxNamesPerSource {
                src.blockedUntil = now + Self.blockMillis
                blocked = Self.blockMillis / 1000
            }
            s.namesBySource[source] = src
            return blocked
        }
    }

    /// Forgets the failures of `source` on an account after a successful sign-in.
    public func recordSuccess(org: String, username: String, source: String) {
        _ = state.withLock { $0.byAccount.removeValue(forKey: Self.key(org, username, source)) }
    }

    static func evict(_ s: inout State, now: Int64) {
        s.byAccount = s.byAccount.filter { now - $0.value.firstAt <= blockMillis || $0.value.blockedUntil > now }
        s.namesBySource = s.namesBySource.filter { now - $0.value.firstAt <= blockMillis || $0.value.blockedUntil > now }
        if s.byAccount.count >= maxEntries { s.byAccount.removeAll(keepingCapacity: true) }
        if s.namesBySource.count >= maxEntries { s.namesBySource.removeAll(keepingCapacity: true) }
    }
}
