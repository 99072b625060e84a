import ChainCore
import CrabTraceContract

/// A batch of printable ring or coupon codes with their secrets, as the association (rings) or a
/// merchant (coupons) makes it: the label sheet, the commissioning arguments (salted hashes only)
/// and the secrets CSV. The console's `POST /v1/console/codes` and `xiangchain codes` both use it.
public struct CodeBatch: Sendable {
    /// What the batch holds.
    public enum Kind: String, Sendable, CaseIterable {
        case rings, coupons
    }

    /// Rings or coupons.
    public let kind: Kind
    /// The serial numbers the batch covers.
    public let serials: ClosedRange<Int>
    /// The codes, with their secrets, in serial order.
    public let codes: [GeneratedCode]
    /// Rings: the `commission_rings` arguments; coupons: the coupon list of `issue_coupons`
    /// (`CrabCall.couponList`). Only salted secret hashes, never the secrets.
    public let commission: JSONValue

    /// Ring codes for `gtin` with serials `prefix + n` (zero-padded to `width`) for each `n` in `serials`.
    public static func rings(
        gtin: String, serials: ClosedRange<Int>, prefix: String = "", width: Int, resolver: String,
        using rng: inout some RandomNumberGenerator
    ) throws(ChainError) -> CodeBatch {
        let codes = try CodeGenerator(resolver: resolver).rings(
            gtin: gtin, serials: serials, prefix: prefix, width: width, using: &rng)
        let call = CrabCall.commissionRings(
            gtin: codes.first?.key.gtin ?? gtin, rings: codes.map(CrabCall.Ring.init))
        return CodeBatch(kind: .rings, serials: serials, codes: codes, commission: call.args)
    }

    /// Coupon codes: the GCN base (12 digits, the check digit is added) followed by each `n` in
    /// `serials`, zero-padded to `width`.
    public static func coupons(
        base12: String, serials: ClosedRange<Int>, width: Int, resolver: String,
        using rng: inout some RandomNumberGenerator
    ) throws(ChainError) -> CodeBatch {
        let codes = try CodeGenerator(resolver: resolver).coupons(
            base12: base12, serials: serials, width: width, using: &rng)
        return CodeBatch(
            kind: .coupons, serials: serials, codes: codes,
            commission: CrabCall.couponList(codes.map(CrabCall.Coupon.init)))
    }

    /// The label sheet: one label per code, titled "kind first–last". With a `caption`, the title
    /// reads "caption — kind first–last" and each label "caption · key"; without, each label shows its key.
    public func sheet(caption: String? = nil) -> CodeSheet {
        let range = "\(kind.rawValue) \(serials.lowerBound)–\(serials.upperBound)"
        let labels = codes.map { code in
            CodeLabel(
                uri: code.uri, shortCode: code.shortCode,
                caption: caption.map { "\($0) · \(code.key.canonical)" } ?? code.key.canonical)
        }
        return CodeSheet(title: caption.map { "\($0) — \(range)" } ?? range, labels: labels)
    }

    /// The secrets: `uri,short_code,key,secret`, a header line then one line per code. The only
    /// copy of the secrets: print the labels, then keep it offline or destroy it.
    public var csv: String {
        var out = "uri,short_code,key,secret\n"
        for c in codes { out += "\(c.uri),\(c.shortCode),\(c.key.canonical),\(c.secret)\n" }
        return out
    }
}
