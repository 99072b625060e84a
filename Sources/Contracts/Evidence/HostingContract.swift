import ChainCore
import Execution
import Identity

/// Records of the one-stop platform, replicated to every node of the org that hosts it
/// (`docs/accounts.md`, "Every node of the hosting org").
///
/// `record {box}` (role `node`): `box` is the base64 of a sealed box (at most
/// ``maxBoxCharacters`` characters) that only the nodes of the signer's org can open: an account's
/// state or a complaint's contact, sealed under the org's hosting key. The chain checks only the
/// signer and the size; it stores nothing in state and emits `record {org, box}`, which every node
/// of the org applies to its own accounts database and complaint file. Nodes of other orgs see
/// only ciphertext.
public struct HostingContract: Contract {
    /// "hosting".
    public let name = "hosting"
    /// Largest `box`, base64 characters (an account's state with its certificate fits in a quarter).
    public static let maxBoxCharacters = 16 * 1024

    /// Creates the contract.
    public init() {}

    public func allowedRoles(method: String) -> Set<Role>? {
        method == "record" ? [.node] : nil
    }

    public func execute(method: String, args: JSONValue, context: ExecutionContext) throws {
        switch method {
        case "record": try record(args, context)
        default: throw ChainError(.unknownMethod, "hosting has no method \"\(method)\"")
        }
    }

    func record(_ args: JSONValue, _ ctx: ExecutionContext) throws {
        try ctx.requireRole([.node], for: "hosting.record")
        let a = try Arguments(args, allowed: ["box"])
        let box = try a.string("box", maxLength: Self.maxBoxCharacters)
        guard !box.isEmpty, box.utf8.count % 4 == 0,
            box.utf8.allSatisfy({
                ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2b
                    || $0 == 0x2f || $0 == 0x3d
            })
        else { throw ChainError(.badArgs, "\"box\" must be base64 (a sealed box)") }
        ctx.emit("record", .object(["org": .string(ctx.caller.org), "box": .string(box)]))
    }
}
