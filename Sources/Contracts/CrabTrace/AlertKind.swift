/// Kinds of alert the contract records. Alerts never refuse a transaction.
public enum AlertKind: String, Sendable, CaseIterable {
    /// A scanned code was never issued: unknown key, wrong secret, or a ring never tagged on a crab.
    case neverIssued = "never_issued"
    /// The same ring or coupon verified in two different cities within the season's scan window.
    case twoCities = "two_cities"
    /// Scanned more than the season's `maxScans` (raised once, on the scan that crosses the limit).
    case tooManyScans = "too_many_scans"
    /// Scanned in a city outside the merchant's declared sales region.
    case outOfRegion = "out_of_region"
    /// Issuance brought a merchant's promised + delivered crabs to the circuit-breaker threshold; issuance is suspended.
    case capacityExhausted = "capacity_exhausted"
    /// A redeemed coupon's box was not shipped within the season's `shipWithinDays` (found by `sweep`).
    case notShipped = "not_shipped"
    /// A ring or coupon scanned more than `lateScanDays` after its season closed (recycled ring).
    case lateScan = "late_scan"
}
