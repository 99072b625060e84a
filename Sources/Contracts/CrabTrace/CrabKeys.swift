/// The contract's state key layout (keys below are relative; stored under `crab/`).
///
/// | key | value |
/// |---|---|
/// | `member/<org>` | member record |
/// | `season/<season>` | season parameters |
/// | `stock/<season>/<org>` | a merchant's granted, promised and delivered crabs, issuance suspension |
/// | `tagged/<season>/<org>` | rings a farm tagged in the season |
/// | `obj/<canonical>` | ring, lot, box or coupon record (`canonical` = `GS1Key.canonical`) |
/// | `hist/<object>/<seq:8>` and `histn/<object>` | per-object history and its counter |
/// | `tx/<txid>` | what a transaction touched (for error declarations) |
/// | `errordecl/<txid>` | the error declaration of a transaction |
/// | `alert/<seq:12>`, `alertn`, `alertidx/<object>/<seq:12>` | alerts, their counter, index by object |
/// | `alertopen/<inverted seq:12>`, `alertopenof/<object>/<kind>`, `alertopenn[/<kind>]` | open alerts newest first, the open alert per object and kind, open counts |
/// | `failsrc/<source>`, `failobj/<object>` | failed checks (wrong secret, unknown code) by source and by object |
/// | `policy/scan` | the association's thresholds for failed checks |
/// | `complaint/<seq:12>`, `complaintn` | complaints and their counter |
public enum CrabKeys {
    /// Member record.
    public static func member(_ org: String) -> String { "member/\(org)" }
    /// Season parameters.
    public static func season(_ season: String) -> String { "season/\(season)" }
    /// A merchant's stock in a season.
    public static func stock(_ season: String, _ org: String) -> String { "stock/\(season)/\(org)" }
    /// A farm's tagged count in a season.
    public static func tagged(_ season: String, _ org: String) -> String { "tagged/\(season)/\(org)" }
    /// An object record.
    public static func object(_ key: GS1Key) -> String { "obj/\(key.canonical)" }
    /// History object name of a member.
    public static func memberObject(_ org: String) -> String { "member:\(org)" }
    /// History object name of a season.
    public static func seasonObject(_ season: String) -> String { "season:\(season)" }
    /// History entry `seq` of `object`.
    public static func history(_ object: String, _ seq: Int64) -> String { "hist/\(object)/\(pad(seq, 8))" }
    /// Prefix of every object's history.
    public static let allHistoryPrefix = "hist/"
    /// Prefix of the history of `object`.
    public static func historyPrefix(_ object: String) -> String { "hist/\(object)/" }
    /// History counter of `object`.
    public static func historyCount(_ object: String) -> String { "histn/\(object)" }
    /// Transaction index.
    public static func tx(_ txid: String) -> String { "tx/\(txid)" }
    /// Error declaration of a transaction.
    public static func errorDeclaration(_ txid: String) -> String { "errordecl/\(txid)" }
    /// Alert `seq`.
    public static func alert(_ seq: Int64) -> String { "alert/\(pad(seq, 12))" }
    /// Alert counter.
    public static let alertCount = "alertn"
    /// Alert index entry.
    public static func alertIndex(_ object: String, _ seq: Int64) -> String { "alertidx/\(object)/\(pad(seq, 12))" }
    /// The open alert of `kind` on `object`, if any (its sequence number).
    public static func openAlertOf(_ object: String, _ kind: String) -> String { "alertopenof/\(object)/\(kind)" }
    /// Open alerts, newest first: the key sorts by the inverted sequence number.
    public static func openAlert(_ seq: Int64) -> String { "alertopen/\(pad(inverted(seq), 12))" }
    /// Prefix of the open-alert index.
    public static let openAlertPrefix = "alertopen/"
    /// Number of open alerts.
    public static let openAlertCount = "alertopenn"
    /// Number of open alerts of `kind`.
    public static func openAlertCount(kind: String) -> String { "alertopenn/\(kind)" }
    /// Failed checks (wrong or missing secret, unknown code) from one source.
    public static func failedChecks(source: String) -> String { "failsrc/\(source)" }
    /// Failed checks of one object.
    public static func failedChecks(object: String) -> String { "failobj/\(object)" }
    /// History and alert object name of a source of failed checks.
    public static func sourceObject(_ source: String) -> String { "source:\(source)" }
    /// The association's scan policy (failed-check thresholds).
    public static let scanPolicy = "policy/scan"
    /// Complaint `seq`.
    public static func complaint(_ seq: Int64) -> String { "complaint/\(pad(seq, 12))" }
    /// Complaint counter.
    public static let complaintCount = "complaintn"

    /// `999999999999 - seq`: keys that sort newest first.
    static func inverted(_ seq: Int64) -> Int64 { 999_999_999_999 - seq }

    static func pad(_ n: Int64, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
