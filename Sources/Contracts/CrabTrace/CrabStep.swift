import ChainCore
import Execution
import Identity

/// One crab transaction in progress: the execution context plus what the step touched, for
/// the per-object history (invariant 6) and the transaction index used by error declarations.
final class CrabStep {
    let ctx: ExecutionContext
    let method: String
    let config: CrabTraceConfig
    private(set) var touched: [String] = []
    private var touchedSet = Set<String>()

    init(context: ExecutionContext, method: String, config: CrabTraceConfig) {
        self.ctx = context
        self.method = method
        self.config = config
    }

    var now: Int64 { ctx.blockTime }
    var caller: SignerIdentity { ctx.caller }

    var signerJSON: JSONValue {
        .object([
            "org": .string(caller.org), "role": .string(caller.role.rawValue), "subject": .string(caller.subject),
            "cert": .string(caller.certificateFingerprint),
        ])
    }

    func record(_ key: String) throws -> Record? {
        guard let v = try ctx.getJSON(key) else { return nil }
        guard let o = v.objectValue else { throw ChainError(.corruptState, "record \(key) is not an object") }
        return o
    }

    func put(_ key: String, _ r: Record) { ctx.putJSON(key, .object(r)) }

    /// The next value of the counter under `key` (1 first).
    func nextCounter(_ key: String) throws -> Int64 {
        let n = (try ctx.getJSON(key)?.int64Value ?? 0) + 1
        ctx.putJSON(key, .int(n))
        return n
    }

    /// The caller's org must be a registered member in the caller's role, and active.
    func requireActiveMember() throws {
        guard let m = try record(CrabKeys.member(caller.org)), m.str("role") == caller.role.rawValue else {
            throw ChainError(
                .notAMember, "org \(caller.org) is not a registered \(caller.role.rawValue) member of the association")
        }
        if m.flag("suspended") {
            throw ChainError(.memberSuspended, "member \(caller.org) is suspended: \(m.str("suspendedReason") ?? "")")
        }
    }

    /// An active member `org` with role `role`, or the given error.
    func activeMember(_ org: String, role: Role, field: String) throws -> Record {
        guard let m = try record(CrabKeys.member(org)), m.str("role") == role.rawValue else {
            throw ChainError(.notAMember, "\"\(field)\": \(org) is not a registered \(role.rawValue) member")
        }
        if m.flag("suspended") { throw ChainError(.memberSuspended, "\"\(field)\": member \(org) is suspended") }
        return m
    }

    /// Appends a history entry for `object` (the step's method, CBV business step, signer, tx, time, data).
    func history(_ object: String, _ data: Record = [:], step: String? = nil) throws {
        let seq = try nextCounter(CrabKeys.historyCount(object))
        let s = step ?? method
        var entry: Record = [
            "object": .string(object), "seq": .int(seq), "step": .string(s), "signer": signerJSON,
            "txid": .string(ctx.txid.hex), "height": .int(Int64(ctx.height)), "time": .int(now), "data": .object(data),
        ]
        if let b = CrabTraceContract.method(named: s)?.bizStep { entry["bizStep"] = .string(b) }
        put(CrabKeys.history(object, seq), entry)
        if touchedSet.insert(object).inserted { touched.append(object) }
    }

    /// Records an alert (never refuses the transaction) and emits it as an event.
    ///
    /// One open alert per object and kind: while an alert of `kind` on `object` is open, a new
    /// occurrence only counts on it (`repeats`, `lastAt`, `lastTxid`, the latest `details`), so a
    /// flood of the same finding makes one entry on the desk. Returns the alert's sequence number.
    @discardableResult
    func alert(_ kind: AlertKind, object: String, _ details: Record = [:]) throws -> Int64 {
        let openKey = CrabKeys.openAlertOf(object, kind.rawValue)
        if let seq = try ctx.getJSON(openKey)?.int64Value, var a = try record(CrabKeys.alert(seq)), a.flag("open") {
            a["repeats"] = .int(a.int("repeats") + 1)
            a["lastAt"] = .int(now)
            a["lastTxid"] = .string(ctx.txid.hex)
            a["lastDetails"] = .object(details)
            put(CrabKeys.alert(seq), a)
            return seq
        }
        let seq = try nextCounter(CrabKeys.alertCount)
        let a: Record = [
            "seq": .int(seq), "kind": .string(kind.rawValue), "object": .string(object), "details": .object(details),
            "txid": .string(ctx.txid.hex), "height": .int(Int64(ctx.height)), "time": .int(now), "open": .bool(true),
            "raisedBy": signerJSON, "repeats": .int(0),
        ]
        put(CrabKeys.alert(seq), a)
        ctx.putJSON(CrabKeys.alertIndex(object, seq), .int(seq))
        ctx.putJSON(openKey, .int(seq))
        ctx.putJSON(CrabKeys.openAlert(seq), .int(seq))
        try addToCounter(CrabKeys.openAlertCount, 1)
        try addToCounter(CrabKeys.openAlertCount(kind: kind.rawValue), 1)
        ctx.emit("alert", .object(["seq": .int(seq), "kind": .string(kind.rawValue), "object": .string(object)]))
        return seq
    }

    /// Marks alert `seq` closed with `note`; `bad_state` when it is already closed.
    func closeAlert(_ seq: Int64, note: String) throws {
        guard var alert = try record(CrabKeys.alert(seq)) else { throw ChainError(.unknownAlert, "no alert \(seq)") }
        guard alert.flag("open") else { throw ChainError(.badState, "alert \(seq) is already closed") }
        alert["open"] = .bool(false)
        alert["closedBy"] = signerJSON
        alert["closedAt"] = .int(now)
        alert["note"] = .string(note)
        put(CrabKeys.alert(seq), alert)
        let kind = alert.str("kind") ?? ""
        let openKey = CrabKeys.openAlertOf(alert.str("object") ?? "", kind)
        if try ctx.getJSON(openKey)?.int64Value == seq { ctx.delete(openKey) }
        ctx.delete(CrabKeys.openAlert(seq))
        try addToCounter(CrabKeys.openAlertCount, -1)
        try addToCounter(CrabKeys.openAlertCount(kind: kind), -1)
        ctx.emit("alert_closed", .object(["seq": .int(seq)]))
    }

    /// Adds `delta` to the counter under `key` (never below 0).
    func addToCounter(_ key: String, _ delta: Int64) throws {
        ctx.putJSON(key, .int(max(0, (try ctx.getJSON(key)?.int64Value ?? 0) + delta)))
    }

    /// Writes the transaction index and emits the step event.
    func finish() {
        guard !touched.isEmpty else { return }
        let stored = touched.prefix(1000)
        put(
            CrabKeys.tx(ctx.txid.hex),
            [
                "step": .string(method), "signer": signerJSON, "height": .int(Int64(ctx.height)), "time": .int(now),
                "objects": .array(stored.map { .string($0) }),
            ])
        ctx.emit(method, .object(["objects": .int(touched.count), "first": .string(touched[0])]))
    }
}
