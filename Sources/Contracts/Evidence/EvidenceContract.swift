import ChainCore
import Execution
import Identity

/// Evidence notarisation (存证): records the SHA-256 of a document with its kind and metadata, so
/// anyone can later prove the document existed, unchanged, at the block's time.
///
/// `put {hash, kind, meta?}`: `hash` is 64 hex characters (stored lowercase), `kind` 1–64
/// characters, `meta` a JSON object of at most 4 KiB (canonical form). A hash is recorded once;
/// a second `put` fails with `already_exists`.
public struct EvidenceContract: Contract {
    /// "evidence".
    public let name = "evidence"
    /// Largest `meta`, in canonical JSON bytes.
    public static let maxMetaBytes = 4096
    /// Roles that may notarise: every account role except node identities.
    static let writers: Set<Role> = Set(Role.allCases).subtracting([.node])

    /// Creates the contract.
    public init() {}

    public func allowedRoles(method: String) -> Set<Role>? {
        method == "put" ? Self.writers : nil
    }

    public func execute(method: String, args: JSONValue, context: ExecutionContext) throws {
        switch method {
        case "put": try put(args, context)
        default: throw ChainError(.unknownMethod, "evidence has no method \"\(method)\"")
        }
    }

    func put(_ args: JSONValue, _ ctx: ExecutionContext) throws {
        try ctx.requireRole(Self.writers, for: "evidence.put")
        let a = try Arguments(args, allowed: ["hash", "kind", "meta"])
        let hash = try a.string("hash", maxLength: 64).lowercased()
        guard Hex.isLowercase(hash, byteCount: 32) else {
            throw ChainError(.badArgs, "\"hash\" must be 64 hex characters (a SHA-256 digest)")
        }
        let kind = try a.string("kind", maxLength: 64)
        let meta = JSONValue.object(try a.optionalObject("meta") ?? [:])
        let metaSize = meta.canonicalBytes.count
        guard metaSize <= Self.maxMetaBytes else {
            throw ChainError(.metaTooLarge, "meta is \(metaSize) bytes; the limit is \(Self.maxMetaBytes)")
        }
        guard try ctx.get(hash) == nil else {
            throw ChainError(.alreadyExists, "evidence for hash \(hash) is already recorded")
        }
        let record = JSONValue.object([
            "hash": .string(hash), "kind": .string(kind), "meta": meta, "txid": .string(ctx.txid.hex),
            "height": .int(Int64(ctx.height)), "time": .int(ctx.blockTime),
            "signer": .object([
                "org": .string(ctx.caller.org), "role": .string(ctx.caller.role.rawValue),
                "subject": .string(ctx.caller.subject),
            ]),
        ])
        ctx.putJSON(hash, record)
        ctx.emit("evidence_put", .object(["hash": .string(hash), "kind": .string(kind)]))
    }
}

/// The evidence contract's lookup offered to WebAssembly contracts (`docs/contracts.md`): `get
/// {hash}`, the record notarising a SHA-256 (the one `GET /v1/evidence/{hash}` shows anyone), or
/// null. One key read, so its cost does not depend on the state. A contract uses it to check that
/// a document it refers to (a public notice, a decision record) was notarised, and when.
extension EvidenceContract: QueryableContract {
    public var contractQueries: Set<String> { ["get"] }

    public func contractQuery(method: String, args: JSONValue, state: QueryState) throws -> JSONValue {
        guard method == "get" else {
            throw ChainError(.queryNotAllowed, "contract evidence offers no query \"\(method)\" to contracts")
        }
        let a = try Arguments(args, allowed: ["hash"])
        let hash = try a.string("hash", maxLength: 64).lowercased()
        guard Hex.isLowercase(hash, byteCount: 32) else {
            throw ChainError(.badArgs, "\"hash\" must be 64 hex characters (a SHA-256 digest)")
        }
        return try state.getJSON(hash) ?? .null
    }
}
