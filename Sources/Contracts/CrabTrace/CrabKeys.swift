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
    /// Complaint `seq`.
    public static func complaint(_ seq: Int64) -> String { "complaint/\(pad(seq, 12))" }
    /// Complaint counter.
    public static let complaintCount = "complaintn"

    static func pad(_ n: Int64, _ width: Int) -> String {
        let s = String(n)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
