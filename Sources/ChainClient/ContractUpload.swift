import ChainCore
import Foundation
import Identity

/// The transactions that put a WebAssembly module on chain through the native `wasm` contract
/// (`docs/contracts.md`): its code in parts of at most ``partBytes`` bytes (`upload`), then
/// `deploy` or `upgrade` of a named contract running it.
public enum ContractUpload {
    /// Largest part of an upload (the `wasm` contract's limit, chosen so that a part's transaction
    /// stays under a node's default body limit of 128 KiB).
    public static let partBytes = 64 * 1024

    /// Lowercase hex SHA-256 of `code`: the id of the code on chain.
    public static func hash(_ code: [UInt8]) -> String { Hash256.sha256(code).hex }

    /// The `upload` transactions of `code`, in order.
    public static func uploads(_ code: [UInt8], signer: SigningIdentity, chain: String) throws -> [SignedTransaction] {
        let hash = hash(code)
        let parts = max(1, (code.count + partBytes - 1) / partBytes)
        return try (0..<parts).map { part in
            let slice = code[(part * partBytes)..<min(code.count, (part + 1) * partBytes)]
            return try signer.transaction(
                chain: chain, contract: "wasm", method: "upload",
                args: .object([
                    "sha256": .string(hash), "part": .int(Int64(part)), "parts": .int(Int64(parts)),
                    "data": .string(Data(slice).base64EncodedString()),
                ]))
        }
    }

    /// The `deploy` (or `upgrade`) transaction of contract `name` running the code with `hash`.
    public static func deploy(
        name: String, hash: String, upgrade: Bool = false, signer: SigningIdentity, chain: String
    ) throws -> SignedTransaction {
        try signer.transaction(
            chain: chain, contract: "wasm", method: upgrade ? "upgrade" : "deploy",
            args: .object(["name": .string(name), "code": .string(hash)]))
    }

    /// A `call` transaction of `method` of contract `name`.
    public static func call(
        name: String, method: String, args: JSONValue, signer: SigningIdentity, chain: String
    ) throws -> SignedTransaction {
        try signer.transaction(
            chain: chain, contract: "wasm", method: "call",
            args: .object(["contract": .string(name), "method": .string(method), "args": args]))
    }
}
