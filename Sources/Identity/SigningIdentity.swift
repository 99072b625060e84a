import ChainCore
import Foundation

/// A key and its certificate, able to sign transactions (used by the CLI, tests and clients).
public struct SigningIdentity: Sendable {
    /// The private key.
    public let key: SigningKey
    /// The certificate, DER.
    public let certificateDER: [UInt8]

    /// Creates an identity from a key and its certificate.
    public init(key: SigningKey, certificate: CertificateInfo) {
        self.key = key
        self.certificateDER = certificate.der
    }

    /// Creates an identity from a key and its certificate as PEM (e.g. a node's `node.key.pem` and `node.cert.pem`).
    public init(key: SigningKey, certificatePEM: String) throws(ChainError) {
        self.key = key
        self.certificateDER = try KeyPEM.certificateDER(fromPEM: certificatePEM)
    }

    /// Loads `key.pem` and `cert.pem` from a directory.
    public init(directory: URL) throws {
        let keyPEM = try String(contentsOf: directory.appendingPathComponent("key.pem"), encoding: .utf8)
        let certPEM = try String(contentsOf: directory.appendingPathComponent("cert.pem"), encoding: .utf8)
        self.key = try KeyPEM.decode(keyPEM)
        self.certificateDER = try KeyPEM.certificateDER(fromPEM: certPEM)
    }

    /// The certificate as PEM.
    public var certificatePEM: String { KeyPEM.certificatePEM(fromDER: certificateDER) }

    /// Signs body bytes; the id is the hash of the key's suite (SHA-256, or SM3 for SM2).
    public func sign(body: [UInt8]) throws -> SignedTransaction {
        SignedTransaction(body: body, signature: try key.sign(body), signerCertificate: certificateDER, hasher: key.suite.hasher)
    }

    /// Builds, signs and returns a transaction for `contract.method(args)`.
    public func transaction(
        chain: String, contract: String, method: String, args: JSONValue,
        nonce: String = UUID().uuidString, timestamp: Int64 = Int64(Date().timeIntervalSince1970 * 1000)
    ) throws -> SignedTransaction {
        let body = TransactionBody.encode(
            chain: chain, nonce: nonce, timestamp: timestamp, contract: contract, method: method, args: args)
        return try sign(body: body)
    }

    /// Builds, signs and returns a transaction for `call`.
    public func transaction(
        chain: String, call: ContractCall, nonce: String = UUID().uuidString,
        timestamp: Int64 = Int64(Date().timeIntervalSince1970 * 1000)
    ) throws -> SignedTransaction {
        try transaction(
            chain: chain, contract: call.contract, method: call.method, args: call.args, nonce: nonce, timestamp: timestamp)
    }
}

/// The JSON envelope of `POST /v1/txs`: `{"body": base64, "signature": base64, "signer": PEM}`.
public struct TransactionSubmission: Codable, Sendable {
    /// Base64 of the body bytes.
    public var body: String
    /// Base64 of the signature.
    public var signature: String
    /// The signer's certificate, PEM.
    public var signer: String

    /// An envelope from its three fields as received.
    public init(body: String, signature: String, signer: String) {
        self.body = body
        self.signature = signature
        self.signer = signer
    }

    /// The envelope of a signed transaction.
    public init(_ tx: SignedTransaction) {
        body = Data(tx.body).base64EncodedString()
        signature = Data(tx.signature).base64EncodedString()
        signer = KeyPEM.certificatePEM(fromDER: tx.signerCertificate)
    }

    /// Parses a request body `{"body", "signature", "signer"}` strictly (no other members, each a
    /// string) and decodes it for a chain hashing with `hasher`: the reader of `POST /v1/txs` and
    /// of each item of `POST /v1/txs/batch` (`malformed_json`, `malformed`, `bad_base64`,
    /// `bad_certificate`).
    public static func parse(_ bytes: [UInt8], hasher: ChainHasher) throws(ChainError) -> SignedTransaction {
        let value: JSONValue
        do {
            value = try JSONParser(maxDepth: 4).parse(bytes)
        } catch {
            throw ChainError(.malformedJSON, "request body is not valid JSON: \(error.message)")
        }
        return try parse(value, hasher: hasher)
    }

    /// Parses an envelope already read as JSON (an item of `POST /v1/txs/batch`), as strictly as
    /// `parse(_:hasher:)`.
    public static func parse(_ value: JSONValue, hasher: ChainHasher) throws(ChainError) -> SignedTransaction {
        guard let o = value.objectValue else { throw ChainError(.malformed, "request body must be a JSON object") }
        func field(_ name: String) throws(ChainError) -> String {
            guard let s = o[name]?.stringValue else { throw ChainError(.malformed, "\"\(name)\" must be a string") }
            return s
        }
        if let extra = o.keys.sorted().first(where: { !["body", "signature", "signer"].contains($0) }) {
            throw ChainError(.malformed, "unknown field \"\(extra)\"")
        }
        return try TransactionSubmission(body: field("body"), signature: field("signature"), signer: field("signer")).decode(
            hasher: hasher)
    }

    /// Decodes the envelope's parts for a chain hashing with `hasher`; errors name the bad field.
    public func decode(hasher: ChainHasher) throws(ChainError) -> SignedTransaction {
        guard let bodyBytes = Data(base64Encoded: body) else {
            throw ChainError(.badBase64, "\"body\" is not valid base64")
        }
        guard let sig = Data(base64Encoded: signature) else {
            throw ChainError(.badBase64, "\"signature\" is not valid base64")
        }
        let der = try KeyPEM.certificateDER(fromPEM: signer)
        return SignedTransaction(body: Array(bodyBytes), signature: Array(sig), signerCertificate: der, hasher: hasher)
    }
}
