import ChainCore

/// A crab size in liang (两, 50 g) with one decimal, as the crab contract's `sizes` and
/// `sizeLiang` arguments carry it: a JSON number such as `3.5`.
public struct LiangSize: Sendable, Hashable {
    /// The size in tenths of a liang (35 is 3.5 liang).
    public let tenths: Int64

    /// A size of `tenths` tenths of a liang.
    public init(tenths: Int64) { self.tenths = tenths }

    /// A size written as liang with at most one decimal ("3", "3.5"); nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty, parts[0].utf8.count <= 15,
            parts[0].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let whole = Int64(parts[0])
        else { return nil }
        var t = whole * 10
        if parts.count == 2 {
            guard parts[1].utf8.count == 1, let d = Int64(parts[1]), d >= 0 else { return nil }
            t += d
        }
        tenths = t
    }

    /// The JSON number literal, always with one decimal ("3.0", "4.5").
    public var jsonValue: JSONValue {
        let m = tenths.magnitude
        return .number("\(tenths < 0 ? "-" : "")\(m / 10).\(m % 10)")
    }
}
