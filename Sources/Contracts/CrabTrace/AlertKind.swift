/// Kinds of alert the contract records. Alerts never refuse a transaction.
public enum AlertKind: String, Sendable, CaseIterable {
    /// A scanned code was never issued: an unknown key, or a genuine ring's right secret while the
    /// ring was never tagged on a crab (a leaked label). Wrong secrets of known codes raise nothing on
    /// the object: they count against their source (`repeated_failures`).
    case neverIssued = "never_issued"
    /// One source made more failed checks (wrong or missing secret, unknown code) than the scan
    /// policy allows within its window: someone is probing serials. Raised on `source:<hash>`.
    case repeatedFailures = "repeated_failures"
    /// The same ring checked in two different cities, by two different devices, within the season's scan window.
    case twoCities = "two_cities"
    /// Checked by more distinct devices than the season's `maxScans` (raised on the check that crosses it).
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
