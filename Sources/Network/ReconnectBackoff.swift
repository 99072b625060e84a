/// How long a dialer waits before the next attempt: exponential growth from `initial` by
/// `multiplier` per consecutive failure, capped at `maximum`, with a random cut of up to `jitter`
/// of the delay so that nodes restarted together do not redial in lockstep.
public struct ReconnectBackoff: Sendable, Hashable {
    /// Delay after the first failure (and after an established connection drops).
    public var initial: Duration
    /// Largest delay, reached after enough consecutive failures.
    public var maximum: Duration
    /// Growth factor per consecutive failure, at least 1.
    public var multiplier: Double
    /// Fraction (0–1) of each delay that is randomly cut off.
    public var jitter: Double

    /// A policy; the defaults give 0.1 s, 0.2 s, 0.4 s … capped at 10 s, each cut by up to half.
    public init(
        initial: Duration = .milliseconds(100), maximum: Duration = .seconds(10), multiplier: Double = 2, jitter: Double = 0.5
    ) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The delay after `failures` consecutive failures (0 for the first retry), given `random` in [0, 1).
    public func delay(afterFailures failures: Int, random: Double) -> Duration {
        let initialSeconds = Self.seconds(initial)
        let maximumSeconds = max(Self.seconds(maximum), 0)
        let growth = max(multiplier, 1)
        var base = max(initialSeconds, 0)
        var n = 0
        while n < failures, base < maximumSeconds {
            base *= growth
            n += 1
        }
        base = min(base, maximumSeconds)
        let cut = min(max(jitter, 0), 1) * min(max(random, 0), 1)
        let seconds = base * (1 - cut)
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    private static func seconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
