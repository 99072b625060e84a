import ChainCore
import EPCIS
import Execution
import Identity

/// EPCIS 2.0 event capture (GS1 traceability events on chain).
///
/// `capture {document}`: validates the EPCIS document (`epcis_invalid`), computes each event's
/// CBV 2.0 hash, refuses an event whose hash is already recorded (`epcis_duplicate`, also for
/// repeats inside one document), checks the signer's role for events about configured crab
/// products (`role_not_allowed`), then stores each event under `event/<hash>` and, when the
/// document gave one, `id/<eventID>` → hash, and emits one `epcis_event` per event. An error
/// declaration (an event with `errorDeclaration`, which has the hash of the event it declares
/// erroneous) is stored under `decl/<hash>`, once per hash.
///
/// Two optional arguments serve the GS1 REST binding's capture jobs (`docs/epcis.md`):
/// `duplicates: "skip"` records the other events of a document when some are already on chain
/// (each skipped one is reported as an `epcis_duplicate` event instead of failing the whole
/// document), and `errors: "proceed"` (GS1-Capture-Error-Behaviour) records the events that pass
/// the per-event checks and reports each refused one as an `epcis_rejected` event (default
/// `rollback`: one refusal fails them all). A document that is not valid EPCIS fails whole in
/// either mode.
public struct EPCISContract: Contract {
    /// "epcis".
    public let name = "epcis"
    /// Crab product GTINs and limits.
    public let config: EPCISConfig

    /// Creates the contract.
    public init(config: EPCISConfig = EPCISConfig()) { self.config = config }

    public func allowedRoles(method: String) -> Set<Role>? {
        method == "capture" ? EPCISConfig.writers : nil
    }

    public func execute(method: String, args: JSONValue, context: ExecutionContext) throws {
        switch method {
        case "capture": try capture(args, context)
        default: throw ChainError(.unknownMethod, "epcis has no method \"\(method)\"")
        }
    }

    func capture(_ args: JSONValue, _ ctx: ExecutionContext) throws {
        try ctx.requireRole(EPCISConfig.writers, for: "epcis.capture")
        let a = try Arguments(args, allowed: ["document", "duplicates", "errors"])
        guard let raw = a["document"] else { throw ChainError(.badArgs, "\"document\" (an EPCISDocument object) is required") }
        guard raw.objectValue != nil else { throw ChainError(.badArgs, "\"document\" must be a JSON object") }
        let skipDuplicates = try Self.choice(a["duplicates"], "duplicates", ["fail", "skip"], default: "fail") == "skip"
        let proceed = try Self.choice(a["errors"], "errors", ["rollback", "proceed"], default: "rollback") == "proceed"
        let document = try EPCISDocument(raw, limits: config.limits)
        guard !document.events.isEmpty else { throw ChainError(.epcisInvalid, "document epcisBody.eventList: no events") }
        let namespaces = document.namespaces.prefixes.filter { EPCISNamespaces.standard[$0.key] != $0.value }
        var seen = Set<String>()
        var planned: [(event: EPCISEvent, hash: String, key: String)] = []
        for event in document.events {
            let hash = event.hash
            // An error declaration is the erroneous event again with `errorDeclaration` (EPCIS 2.0
            // §7.4.1.3); the event hash leaves that member out, so it has the erroneous event's hash
            // and eventID and is kept beside it, once.
            let declaration = event.json["errorDeclaration"] != nil
            let key = (declaration ? "decl/" : "event/") + hash
            var duplicate: String?
            let recorded = try ctx.get(key) != nil
            if !seen.insert(key).inserted || recorded {
                let what = declaration ? "an error declaration for the event with hash" : "an event with hash"
                duplicate = "event \(event.index): \(what) \(hash) is already recorded"
            } else if !declaration, let id = event.eventID, try ctx.get("id/" + id) != nil, !id.hasPrefix("ni:///") {
                duplicate = "event \(event.index): eventID \(id) is already recorded"
            }
            if let duplicate {
                guard skipDuplicates else { throw ChainError(.epcisDuplicate, duplicate) }
                ctx.emit("epcis_duplicate", Self.report(event, hash, ChainError(.epcisDuplicate, duplicate)))
                continue
            }
            do {
                try checkRole(event, ctx)
            } catch {
                guard proceed else { throw error }
                ctx.emit("epcis_rejected", Self.report(event, hash, error))
                continue
            }
            planned.append((event, hash, key))
        }
        for (event, hash, key) in planned {
            let summary = EPCISEventSummary(event: event, hash: hash, key: key)
            let record = JSONValue.object([
                "hash": .string(hash), "event": .object(event.json), "index": .int(event.index),
                "namespaces": .object(namespaces.mapValues(JSONValue.string)),
                "txid": .string(ctx.txid.hex), "height": .int(Int64(ctx.height)), "time": .int(ctx.blockTime),
                "signer": .object([
                    "org": .string(ctx.caller.org), "role": .string(ctx.caller.role.rawValue),
                    "subject": .string(ctx.caller.subject),
                ]),
            ])
            ctx.putJSON(summary.key, record)
            if let id = event.eventID, !summary.key.hasPrefix("decl/") { ctx.putJSON("id/" + id, .string(hash)) }
            ctx.emit("epcis_event", summary.json)
        }
    }

    /// `{index, hash, eventID?, code, message}`: one event the document's capture left out.
    static func report(_ event: EPCISEvent, _ hash: String, _ error: ChainError) -> JSONValue {
        var o: [String: JSONValue] = [
            "index": .int(Int64(event.index)), "hash": .string(hash), "code": .string(error.code.rawValue),
            "message": .string(error.message),
        ]
        if let id = event.eventID { o["eventID"] = .string(id) }
        return .object(o)
    }

    /// The string value of an optional enumerated argument.
    static func choice(_ value: JSONValue?, _ name: String, _ allowed: [String], default fallback: String) throws(ChainError)
        -> String
    {
        guard let value else { return fallback }
        guard let s = value.stringValue, allowed.contains(s) else {
            throw ChainError(.badArgs, "\"\(name)\" must be one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        return s
    }

    /// Events naming a configured crab GTIN need a role the table allows for their bizStep.
    func checkRole(_ event: EPCISEvent, _ ctx: ExecutionContext) throws(ChainError) {
        guard let gtin = event.epcs.lazy.compactMap({ self.config.crabGTIN(in: $0) }).first else { return }
        let step = event.bizStep
        let roles = EPCISConfig.roles(bizStep: step, disposition: event.disposition)
        guard roles.contains(ctx.caller.role) else {
            let allowed = roles.map(\.rawValue).sorted()
            let stepName = step.map { $0.replacing("https://ref.gs1.org/cbv/BizStep-", with: "") } ?? "(none)"
            throw ChainError(
                .roleNotAllowed,
                "event \(event.index): crab product \(gtin) with bizStep \(stepName) needs role "
                    + (allowed.isEmpty
                        ? "(none: this bizStep is not allowed for crab products)" : allowed.joined(separator: " or "))
                    + "; signer has \(ctx.caller.role.rawValue)")
        }
    }
}
