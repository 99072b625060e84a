import Foundation
import Identity
import Testing

@testable import ChainCore

/// Cross-checks with the `openssl` command line (OpenSSL 3.0): an independent caller of the same
/// library, and the tool operators will use. Every OpenSSL 3.0 quirk the README describes is
/// asserted here.
@Suite("Interop: openssl command line")
struct OpenSSLInteropTests {
    static let distid = "distid:1234567812345678"

    static func openssl(_ arguments: [String], in directory: URL, stdin: String? = nil) throws -> ProcessResult {
        try Run.command(["openssl"] + arguments, stdin: stdin, in: directory)
    }

    static func write(_ bytes: [UInt8], _ name: String, in directory: URL) throws {
        try Data(bytes).write(to: directory.appendingPathComponent(name))
    }

    static func write(_ text: String, _ name: String, in directory: URL) throws {
        try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    static func read(_ name: String, in directory: URL) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    @Test func kitSignaturesVerifyWithOpenSSL() throws {
        let dir = try Run.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = SM2PrivateKey()
        try Self.write(key.publicKey.pemRepresentation, "pub.pem", in: dir)
        for (index, message) in [[], Array("hello".utf8), [UInt8](repeating: 0x5a, count: 10_000)].enumerated() {
            try Self.write(message, "msg\(index)", in: dir)
            try Self.write(try key.sign(message: message), "sig\(index)", in: dir)
            let verify = [
                "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", "pub.pem", "-in", "msg\(index)", "-sigfile",
                "sig\(index)",
            ]
            let ok = try Self.openssl(verify + ["-pkeyopt", Self.distid], in: dir)
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(ok.stdout.contains("Signature Verified Successfully"))
            // Quirk: without distid OpenSSL 3.0 uses an empty id, so the default-id signature fails.
            #expect(try Self.openssl(verify, in: dir).status != 0)
        }
        // Another user id.
        let id = "ALICE123@YAHOO.COM"
        try Self.write(try key.sign(message: Array("x".utf8), userID: Array(id.utf8)), "sigA", in: dir)
        try Self.write(Array("x".utf8), "msgA", in: dir)
        let custom = try Self.openssl(
            [
                "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", "pub.pem", "-in", "msgA", "-sigfile",
                "sigA",
                "-pkeyopt", "distid:\(id)",
            ], in: dir)
        #expect(custom.status == 0, "\(custom.stderr)")
    }

    @Test func openSSLSignaturesVerifyInTheKit() throws {
        let dir = try Run.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try Self.openssl(["genpkey", "-algorithm", "SM2", "-out", "key.pem"], in: dir).status == 0)
        let key = try SM2PrivateKey(pemRepresentation: String(decoding: try Self.read("key.pem", in: dir), as: UTF8.self))
        let message = Array("由 openssl 签名".utf8)
        try Self.write(message, "msg", in: dir)
        let sign = ["pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", "key.pem", "-in", "msg", "-out", "sig"]
        #expect(try Self.openssl(sign + ["-pkeyopt", Self.distid], in: dir).status == 0)
        #expect(key.publicKey.verify(signature: try Self.read("sig", in: dir), message: message))
        #expect(try Self.openssl(sign, in: dir).status == 0)
        let plain = try Self.read("sig", in: dir)
        #expect(!key.publicKey.verify(signature: plain, message: message))
        #expect(key.publicKey.verify(signature: plain, message: message, userID: []))
        // The public key that openssl derives is the kit's.
        let pub = try Self.openssl(["pkey", "-in", "key.pem", "-pubout"], in: dir)
        #expect(try SM2PublicKey(pemRepresentation: pub.stdout) == key.publicKey)
    }

    @Test func privateKeyFilesBothWays() throws {
        let dir = try Run.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = SM2PrivateKey()
        try Self.write(key.pemRepresentation, "kit.pem", in: dir)
        let text = try Self.openssl(["pkey", "-in", "kit.pem", "-noout", "-text"], in: dir)
        #expect(text.status == 0)
        #expect(text.stdout.contains("ASN1 OID: SM2"))
        let der = try Self.openssl(["asn1parse", "-in", "kit.pem"], in: dir)
        #expect(der.stdout.contains("id-ecPublicKey") && der.stdout.contains(":sm2"))
        // A SEC1 "EC PRIVATE KEY" with the SM2 curve OID (as other tools write it) loads too.
        let d = key.rawRepresentation
        let sec1: [UInt8] =
            [0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20] + d
            + [0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d]
            + [0xa1, 0x44, 0x03, 0x42, 0x00] + key.publicKey.rawRepresentation
        let pem =
            "-----BEGIN EC PRIVATE KEY-----\n" + Data(sec1).base64EncodedString(options: .lineLength64Characters)
            + "\n-----END EC PRIVATE KEY-----\n"
        let fromSEC1 = try SM2PrivateKey(pemRepresentation: pem)
        #expect(fromSEC1.rawRepresentation == d)
        let signature = try fromSEC1.sign(message: [1])
        #expect(key.publicKey.verify(signature: signature, message: [1]))
        // Encrypted PKCS#8 is refused without asking for a passphrase; a P-256 key is refused.
        #expect(
            try Self.openssl(
                ["pkcs8", "-topk8", "-in", "kit.pem", "-v2", "aes-256-cbc", "-passout", "pass:x", "-out", "enc.pem"], in: dir
            ).status == 0)
        #expect(throws: ChainError.self) {
            try SM2PrivateKey(pemRepresentation: String(decoding: try Self.read("enc.pem", in: dir), as: UTF8.self))
        }
        #expect(
            try Self.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "p256.pem"], in: dir)
                .status == 0)
        do {
            _ = try SM2PrivateKey(pemRepresentation: String(decoding: try Self.read("p256.pem", in: dir), as: UTF8.self))
            Issue.record("a P-256 key was taken as SM2")
        } catch let error as ChainError {
            #expect(error.code.rawValue == "wrong_suite")
        }
    }

    @Test func kitCertificatesPassOpenSSLVerify() throws {
        let dir = try Run.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.write(PKI.root.certificate.pemRepresentation, "root.pem", in: dir)
        try Self.write(PKI.leaf.pemRepresentation, "leaf.pem", in: dir)
        try Self.write(PKI.intermediate.certificate.pemRepresentation, "inter.pem", in: dir)
        try Self.write(PKI.intermediateLeaf.pemRepresentation, "inter-leaf.pem", in: dir)

        let ok = try Self.openssl(["verify", "-vfyopt", Self.distid, "-CAfile", "root.pem", "leaf.pem"], in: dir)
        #expect(ok.status == 0, "\(ok.stdout) \(ok.stderr)")
        #expect(ok.stdout.contains("leaf.pem: OK"))
        // Quirk 1: without -vfyopt, OpenSSL 3.0 checks the signature with an empty id and fails.
        #expect(try Self.openssl(["verify", "-CAfile", "root.pem", "leaf.pem"], in: dir).status != 0)
        // Quirk 2: -vfyopt reaches only the certificate given on the command line, so an intermediate
        // in -untrusted is checked with the empty id (openssl/openssl#23471) ...
        #expect(
            try Self.openssl(
                ["verify", "-vfyopt", Self.distid, "-CAfile", "root.pem", "-untrusted", "inter.pem", "inter-leaf.pem"], in: dir
            )
            .status != 0)
        // ... so a chain is checked link by link: the intermediate against the root, then the leaf
        // against the intermediate taken as a (partial-chain) anchor.
        let first = try Self.openssl(["verify", "-vfyopt", Self.distid, "-CAfile", "root.pem", "inter.pem"], in: dir)
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
        let second = try Self.openssl(
            ["verify", "-vfyopt", Self.distid, "-partial_chain", "-CAfile", "inter.pem", "inter-leaf.pem"], in: dir)
        #expect(second.status == 0, "\(second.stdout) \(second.stderr)")
        // Quirk 3: -check_ss_sig cannot check an SM2 root's self-signature (the id is not passed on).
        #expect(
            try Self.openssl(["verify", "-check_ss_sig", "-vfyopt", Self.distid, "-CAfile", "root.pem", "root.pem"], in: dir)
                .status != 0)

        let text = try Self.openssl(["x509", "-in", "leaf.pem", "-noout", "-text"], in: dir).stdout
        for fragment in [
            "SM2-with-SM3", "ASN1 OID: SM2", "CA:FALSE", "DNS:node1.xiangchain.local", "IP Address:10.1.2.3", "OU = client",
            "CN = alice",
        ] {
            #expect(text.contains(fragment), "\(fragment)")
        }
        // Expired at a later check time, and a tampered copy, are refused by openssl too.
        let later = String(Int(PKI.now.timeIntervalSince1970) + 400 * 86400)
        let expired = try Self.openssl(
            ["verify", "-vfyopt", Self.distid, "-attime", later, "-CAfile", "root.pem", "leaf.pem"], in: dir)
        #expect(expired.status != 0 && (expired.stdout + expired.stderr).contains("expired"))
    }

    @Test func openSSLCertificatesWorkInTheKit() throws {
        let dir = try Run.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func run(_ arguments: [String]) throws {
            let result = try Self.openssl(arguments, in: dir)
            #expect(result.status == 0, "openssl \(arguments.joined(separator: " ")): \(result.stderr)")
        }
        try run(["genpkey", "-algorithm", "SM2", "-out", "ca.key"])
        try run([
            "req", "-x509", "-new", "-key", "ca.key", "-sm3", "-sigopt", Self.distid, "-days", "30", "-subj",
            "/C=CN/O=OpenSSL Org/CN=OpenSSL Root",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.pem",
        ])
        try run(["genpkey", "-algorithm", "SM2", "-out", "leaf.key"])
        try run([
            "req", "-new", "-key", "leaf.key", "-sm3", "-sigopt", Self.distid, "-subj", "/O=OpenSSL Org/OU=peer/CN=peer9", "-out",
            "leaf.csr",
        ])
        try Self.write(
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectAltName=DNS:peer9.example,IP:192.168.7.9\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n",
            "ext.cnf", in: dir)
        try run([
            "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-sm3", "-sigopt", Self.distid, "-vfyopt",
            Self.distid,
            "-days", "10", "-extfile", "ext.cnf", "-out", "leaf.pem", "-CAcreateserial",
        ])
        let root = try SM2Certificate(pemRepresentation: String(decoding: try Self.read("ca.pem", in: dir), as: UTF8.self))
        let leaf = try SM2Certificate(pemRepresentation: String(decoding: try Self.read("leaf.pem", in: dir), as: UTF8.self))
        #expect(root.isCertificateAuthority && !leaf.isCertificateAuthority)
        #expect(
            leaf.subject == SM2DistinguishedName(organization: "OpenSSL Org", organizationalUnit: "peer", commonName: "peer9"))
        #expect(leaf.dnsNames == ["peer9.example"] && leaf.ipAddresses == ["192.168.7.9"])
        try leaf.verifyIssued(by: root)
        try SM2TrustStore(roots: [root]).verify(leaf, at: Date())
        // The kit can sign a leaf under this openssl-made CA as well.
        let caKey = try SM2PrivateKey(pemRepresentation: String(decoding: try Self.read("ca.key", in: dir), as: UTF8.self))
        let ca = try SM2CertificateAuthority(key: caKey, certificate: root)
        let issued = try ca.issue(
            publicKey: SM2PrivateKey().publicKey, subject: SM2DistinguishedName(organization: "OpenSSL Org", commonName: "kit"),
            notValidBefore: Date(), notValidAfter: Date().addingTimeInterval(3600))
        try Self.write(issued.pemRepresentation, "issued.pem", in: dir)
        try run(["verify", "-vfyopt", Self.distid, "-CAfile", "ca.pem", "issued.pem"])

        // Without -sigopt, openssl signs with the empty id: the kit verifies that only when told.
        try run([
            "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-sm3", "-vfyopt", Self.distid, "-days", "10",
            "-out", "noid.pem", "-CAcreateserial",
        ])
        let noID = try SM2Certificate(pemRepresentation: String(decoding: try Self.read("noid.pem", in: dir), as: UTF8.self))
        #expect(!noID.isIssued(by: root))
        #expect(noID.isIssued(by: root, userID: []))

        // A P-256 certificate is no SM2 certificate.
        try run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "p.key", "-subj",
            "/CN=p256", "-days", "1", "-out", "p.pem",
        ])
        do {
            _ = try SM2Certificate(pemRepresentation: String(decoding: try Self.read("p.pem", in: dir), as: UTF8.self))
            Issue.record("a P-256 certificate parsed as SM2")
        } catch let error as ChainError {
            #expect(error.code.rawValue == "wrong_suite")
        }
    }
}
