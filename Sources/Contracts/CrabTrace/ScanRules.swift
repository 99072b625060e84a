import ChainCore

/// One consumer check of a ring or coupon whose secret matched: where, by which device, when.
public struct ScanObservation: Sendable, Hashable {
    /// The city the consumer chose (city level only).
    public var city: String
    /// The device: a 64-hex salted hash the gateway makes of the browser's device id and the code
    /// (unlinkable between codes), or the signer's certificate fingerprint for a signed consumer.
    public var device: String
    /// When, unix ms (the block time on chain; the node clock in a verdict).
    public var time: Int64

    /// A check in `city` by `device` at `time`.
    public init(city: String, device: String, time: Int64) {
        self.city = city
        self.device = device
        self.time = time
    }
}

/// How a matching check changes a code's record and which alerts it raises. The contract's `scan`
/// applies the rules; `CrabQueries.verify` applies them to a copy, so the verdict a consumer reads
/// counts the check being made (and the check that raises an alert is told so).
///
/// - Every check counts (`scans`, `firstScanAt`, `firstScanCity`, `lastScanAt`): repeat checks show
///   a count and the first check time, as the association's own 2019 system did.
/// - Alerts are judged over distinct devices and places, never page loads:
///   `two_cities` (rings only: a gift coupon travels) when another device checked the ring in
///   another city within `scanWindowHours`; `too_many_scans` when more than `maxScans` distinct
///   devices checked the code; `out_of_region` when the city is outside the merchant's sales region;
///   `late_scan` after the season's close plus `lateScanDays`.
enum ScanRules {
    /// `(city, device)` pairs kept per code for the two-city rule, newest last.
    static let recentPlaces = 16
    /// Hex characters of a device hash kept on chain (64 bits).
    static let deviceIdLength = 16

    struct Outcome {
        var record: [String: JSONValue]
        var alerts: [(AlertKind, [String: JSONValue])]
        var newDevice: Bool
    }

    /// Applies a matching check to `record` (a tagged ring or a coupon) of `season`.
    static func apply(
        _ record: [String: JSONValue], isRing: Bool, season: [String: JSONValue], salesRegion: [JSONValue]?,
        merchant: String?, _ o: ScanObservation
    ) -> Outcome {
        var r = record
        var alerts: [(AlertKind, [String: JSONValue])] = []
        let count = r.int("scans") + 1
        r["scans"] = .int(count)
        if r["firstScanAt"] == nil {
            r["firstScanAt"] = .int(o.time)
            r["firstScanCity"] = .string(o.city)
        }
        r["lastScanAt"] = .int(o.time)
        let device = String(o.device.prefix(deviceIdLength))
        let maxDevices = max(1, season.int("maxScans"))
        var devices = r["devices"]?.arrayValue ?? []
        var newDevice = false
        if !devices.contains(.string(device)), devices.count <= maxDevices {
            devices.append(.string(device))
            newDevice = true
            r["devices"] = .array(devices)
        }
        if newDevice, season["maxScans"] != nil, devices.count == maxDevices + 1 {
            alerts.append((.tooManyScans, ["devices": .int(Int64(devices.count)), "maxScans": .int(maxDevices)]))
        }
        let recent = (r["recent"]?.arrayValue ?? []).compactMap(\.objectValue)
        let window = season.int("scanWindowHours") * 3_600_000
        if isRing, window > 0,
            let other = recent.last(where: {
                $0.str("c") != o.city && $0.str("d") != device && o.time - $0.int("t") <= window
            })
        {
            alerts.append(
                (
                    .twoCities,
                    [
                        "cities": .array([other["c"] ?? .null, .string(o.city)]),
                        "withinHours": .int(season.int("scanWindowHours")), "devices": .int(2),
                    ]
                ))
        }
        let kept = recent.filter { !($0.str("c") == o.city && $0.str("d") == device) }
        r["recent"] = .array(
            (kept + [["c": .string(o.city), "d": .string(device), "t": .int(o.time)]]).suffix(recentPlaces).map {
                .object($0)
            })
        r["devicesSeen"] = .int(Int64(devices.count))
        if let merchant, let region = salesRegion, !region.isEmpty, !region.contains(.string(o.city)) {
            alerts.append((.outOfRegion, ["city": .string(o.city), "merchant": .string(merchant)]))
        }
        if season["closesAt"] != nil,
            o.time > season.int("closesAt") + season.int("lateScanDays") * CrabTraceContract.day
        {
            alerts.append((.lateScan, ["season": season["season"] ?? .null, "closesAt": season["closesAt"] ?? .null]))
        }
        return Outcome(record: r, alerts: alerts, newDevice: newDevice)
    }
}
