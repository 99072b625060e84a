/// The fields of a transaction body, read from the signed bytes.
///
/// The body is a UTF-8 JSON object; the node hashes and verifies exactly the bytes the client
/// signed and never re-serialises them. `docs/transactions.md` is the client-facing description.
public struct TransactionBody: Sendable, Hashable {
    /// Chain id this transaction is meant for (replay protection across chains).
    public let chain: String
    /// Client-chosen uniqueness value, 1–64 characters.
    public let nonce: String
    /// Client clock, unix milliseconds.
    public let timestamp: Int64
    /// Target contract name.
    public let contract: String
    /// Contract method name.
    public let method: String
    /// Method arguments; always a JSON object.
    public let args: JSONValue

    /// The fields a body must have, and no others.
    public static let fields: Set<String> = ["chain", "nonce", "timestamp", "contract", "method", "args"]

    /// Parses and checks body bytes.
    public static func parse(_ bytes: [UInt8]) throws(ChainError) -> TransactionBody {
        let value: JSONValue
        do {
            value = try JSONParser().parse(bytes)
        } catch {
            throw ChainError(.malformedBody, "body is not valid JSON: \(error.message)")
        }
        guard case .object(let o) = value else { throw ChainError(.malformedBody, "body must be a JSON object") }
        if let extra = o.keys.first(where: { !fields.contains($0) }) {
            throw ChainError(.malformedBody, "unknown body field \"\(extra)\"")
        }
        func string(_ name: String) throws(ChainError) -> String {
            guard let s = o[name]?.stringValue else {
                throw ChainError(.malformedBody, "body field \"\(name)\" must be a string")
            }
            return s
        }
        let chain = try string("chain")
        let nonce = try string("nonce")
        guard (1...64).contains(nonce.unicodeScalars.count) else {
            throw ChainError(.malformedBody, "nonce must be 1–64 characters (Unicode code points)")
        }
        guard let ts = o["timestamp"]?.int64Value, ts >= 0 else {
            throw ChainError(.malformedBody, "timestamp must be a non-negative integer (unix milliseconds)")
        }
        let contract = try string("contract")
        let method = try string("method")
        guard isName(contract, allowUppercase: false) else {
            throw ChainError(.malformedBody, "contract name must match [a-z][a-z0-9_]{0,63}")
        }
        guard isName(method, allowUppercase: true) else {
            throw ChainError(.malformedBody, "method name must match [a-z][a-zA-Z0-9_]{0,63}")
        }
        guard let args = o["args"], case .object = args else {
            throw ChainError(.malformedBody, "args must be a JSON object")
        }
        return TransactionBody(chain: chain, nonce: nonce, timestamp: ts, contract: contract, method: method, args: args)
    }

    static func isName(_ s: String, allowUppercase: Bool) -> Bool {
        let u = Array(s.utf8)
        guard (1...64).contains(u.count), (0x61...0x7a).contains(u[0]) else { return false }
        return u.allSatisfy {
            (0x61...0x7a).contains($0) || (allowUppercase && (0x41...0x5a).contains($0)) || (0x30...0x39).contains($0)
                || $0 == 0x5f
        }
    }

    /// Builds body bytes for a client (compact, keys in a fixed order). Any other byte layout of
    /// the same fields is equally valid: the node never rewrites what it is given.
    public static func encode(
        chain: String, nonce: String, timestamp: Int64, contract: String, method: String, args: JSONValue
    ) -> [UInt8] {
        var out = [UInt8]()
        out += Array("{\"chain\":".utf8)
        JSONValue.writeString(chain, into: &out)
        out += Array(",\"nonce\":".utf8)
        JSONValue.writeString(nonce, into: &out)
        out += Array(",\"timestamp\":\(timestamp),\"contract\":".utf8)
        JSONValue.writeString(contract, into: &out)
        out += Array(",\"method\":".utf8)
        JSONValue.writeString(method, into: &out)
        out += Array(",\"args\":".utf8)
        args.write(into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// A transaction as signed by its client: the exact body bytes, the signature over them and the
/// signer's X.509 certificate (DER).
public struct SignedTransaction: Sendable, Hashable {
    /// The exact bytes the client signed.
    public let body: [UInt8]
    /// Signature over `body` under the chain's suite.
    public let signature: [UInt8]
    /// The signer's certificate, DER-encoded.
    public let signerCertificate: [UInt8]
    /// The chain's hash of `body` (SHA-256, or SM3 on an sm2 chain).
    public let id: Hash256

    /// Wraps the three parts and computes the id with the chain's hash function.
    public init(body: [UInt8], signature: [UInt8], signerCertificate: [UInt8], hasher: ChainHasher) {
        self.body = body
        self.signature = signature
        self.signerCertificate = signerCertificate
        self.id = hasher.hash(body)
    }

    /// Lowercase hex id.
    public var txid: String { id.hex }
}
