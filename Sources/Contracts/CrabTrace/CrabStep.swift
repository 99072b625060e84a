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
    func alert(_ kind: AlertKind, object: String, _ details: Record = [:]) throws {
        let seq = try nextCounter(CrabKeys.alertCount)
        let a: Record = [
            "seq": .int(seq), "kind": .string(kind.rawValue), "object": .string(object), "details": .object(details),
            "txid": .string(ctx.txid.hex), "height": .int(Int64(ctx.height)), "time": .int(now), "open": .bool(true),
            "raisedBy": signerJSON,
        ]
        put(CrabKeys.alert(seq), a)
        ctx.putJSON(CrabKeys.alertIndex(object, seq), .int(seq))
        ctx.emit("alert", .object(["seq": .int(seq), "kind": .string(kind.rawValue), "object": .string(object)]))
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
