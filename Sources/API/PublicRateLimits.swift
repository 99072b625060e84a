import ChainCore
import Hummingbird
import Node
import Synchronization

/// Fixed-window counters per key (a client address, a code), bounded in memory: at most
/// `maxKeys` keys are tracked; when full, expired windows are dropped first, and a new key that
/// still finds no room is refused (the limiter fails closed rather than grow).
final class WindowCounter: Sendable {
    /// Most requests per window and key.
    let limit: Int
    /// The window, milliseconds.
    let windowMs: Int64
    /// Most keys tracked at once.
    let maxKeys: Int
    private let state = Mutex<[String: (start: Int64, count: Int)]>([:])

    init(limit: Int, windowMs: Int64, maxKeys: Int = 100_000) {
        self.limit = limit
        self.windowMs = windowMs
        self.maxKeys = maxKeys
    }

    /// Counts one request of `key` at `now`: nil when allowed, else the seconds until the key's window ends.
    func take(_ key: String, now: Int64) -> Int? {
        state.withLock { m in
            if var e = m[key], now - e.start < windowMs {
                guard e.count < limit else { return Int((e.start + windowMs - now + 999) / 1000) }
                e.count += 1
                m[key] = e
                return nil
            }
            if m[key] == nil, m.count >= maxKeys {
                m = m.filter { now - $0.value.start < windowMs }
                if m.count >= maxKeys { return Int((windowMs + 999) / 1000) }
            }
            m[key] = (now, 1)
            return nil
        }
    }
}

/// The rate limits of the public crab routes (`NodeConfig`: `verifyPerMinutePerClient`,
/// `verifyPerMinutePerCode`, `complaintsPerHourPerClient`, `scanBudgetPerMinute`, and the consumer
/// coupon flows' `otpPerHourPerClient`, `otpPerHourPerCoupon`, `otpPerHourPerPhone`,
/// `couponActionsPerHourPerClient`; 0 turns one off).
/// A lookup over a client's or a code's limit gets 429 with `Retry-After`; past the node's scan
/// budget a lookup is still answered, but its check is not recorded on chain, so a flood of lookups
/// adds at most the budget to the chain.
struct PublicRateLimits: Sendable {
    let verifyPerClient: WindowCounter?
    let verifyPerCode: WindowCounter?
    let complaintsPerClient: WindowCounter?
    let scanBudget: WindowCounter?
    /// Consumer coupon flows: one-time codes per client address, per coupon and per phone hash;
    /// bookings and gifts per client address.
    let otpPerClient: WindowCounter?
    let otpPerCoupon: WindowCounter?
    let otpPerPhone: WindowCounter?
    let couponActionsPerClient: WindowCounter?

    init(config: NodeConfig) {
        func counter(_ limit: Int, _ windowMs: Int64) -> WindowCounter? {
            limit > 0 ? WindowCounter(limit: limit, windowMs: windowMs) : nil
        }
        verifyPerClient = counter(config.verifyPerMinutePerClient, 60_000)
        verifyPerCode = counter(config.verifyPerMinutePerCode, 60_000)
        complaintsPerClient = counter(config.complaintsPerHourPerClient, 3_600_000)
        scanBudget = counter(config.scanBudgetPerMinute, 60_000)
        otpPerClient = counter(config.otpPerHourPerClient, 3_600_000)
        otpPerCoupon = counter(config.otpPerHourPerCoupon, 3_600_000)
        otpPerPhone = counter(config.otpPerHourPerPhone, 3_600_000)
        couponActionsPerClient = counter(config.couponActionsPerHourPerClient, 3_600_000)
    }

    /// The 429 answer: `{error: too_many_requests, retryAfter}` with `Retry-After`.
    static func refusal(_ retryAfter: Int, _ what: String) -> Response {
        var headers = HTTPFields()
        headers[.retryAfter] = String(max(1, retryAfter))
        return JSONResponse.make(
            status: .tooManyRequests,
            .object([
                "error": APIError.errorObject(ChainError(.tooManyRequests, "\(what); retry in \(max(1, retryAfter)) s")),
                "retryAfter": .int(Int64(max(1, retryAfter))),
            ]), headers: headers)
    }
}
