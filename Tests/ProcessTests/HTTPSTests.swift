import AsyncHTTPClient
import ChainClient
import ChainCore
import ChainTesting
import Foundation
import Node
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The API over HTTPS (phones open the consumer page from QR codes), with real clients: the
/// project's own (AsyncHTTPClient) and curl.
@Suite(.serialized) struct HTTPSTests {
    /// A CA and a P-256 server certificate for `localhost` and 127.0.0.1 signed by it, made with
    /// openssl as an operator would (or as a public CA would hand them out).
    static func makeCertificates(in dir: URL) async throws -> (ca: String, cert: String, key: String) {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        func openssl(_ args: [String]) async throws {
            let result = try #require(try await runTool("openssl", args), "openssl is not installed (scripts/install-deps)")
            #expect(result.status == 0, "openssl \(args.joined(separator: " ")): \(result.output)")
        }
        try await openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
            "-subj", "/CN=Test consortium web CA", "-keyout", path("ca.key"), "-out", path("ca.crt"),
        ])
        try await openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
            "-keyout", path("api.key"), "-out", path("api.csr"),
        ])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n".write(
            toFile: path("ext.cnf"), atomically: true, encoding: .utf8)
        try await openssl([
            "x509", "-req", "-in", path("api.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"), "-CAcreateserial",
            "-days", "30", "-extfile", path("ext.cnf"), "-out", path("api.crt"),
        ])
        return (path("ca.crt"), path("api.crt"), path("api.key"))
    }

    /// A solo node whose config names `cert` and `key` (nil: leave unset), idle timeout 2 s.
    static func initNode(_ dir: URL, cert: String?, key: String?) async throws -> URL {
        let made = try await XiangChainBinary.run(["init", "--dir", dir.path, "--orgs", "org0"])
        #expect(made.status == 0, "\(made.output)")
        let home = dir.appendingPathComponent("nodes/0")
        let configURL = home.appendingPathComponent("config.json")
        var config = try NodeConfig.load(from: configURL)
        config.apiTLSCertificate = cert
        config.apiTLSKey = key
        config.httpIdleTimeoutSeconds = 2
        try config.write(to: configURL)
        return home
    }

    @Test func theVerifyPageAndAnAPIRouteAreServedOverHTTPS() async throws {
        try await withTemporaryDirectory { dir in
            let home = try await Self.initNode(dir, cert: nil, key: nil)
            let tls = try await Self.makeCertificates(in: home.appendingPathComponent("tls"))
            // Relative paths are read from the node's home.
            let configURL = home.appendingPathComponent("config.json")
            var config = try NodeConfig.load(from: configURL)
            config.apiTLSCertificate = "tls/api.crt"
            config.apiTLSKey = "tls/api.key"
            try config.write(to: configURL)
            #expect(config.apiURL.hasPrefix("https://"))

            let port = freeLocalPort()
            let http = HTTPClient.trusting(caFile: tls.ca)
            do {
                try await Self.checkHTTPS(home: home, port: port, ca: tls.ca, http: http)
            } catch {
                try? await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }

    static func checkHTTPS(home: URL, port: Int, ca: String, http: HTTPClient) async throws {
        let tls = (ca: ca, ())
        do {
            let node = try NodeProcess(home: home, port: port, scheme: "https", host: "localhost", http: http)
            try await node.waitUntilReady()
            #expect(node.logTail(40).contains("API on https://"))

            // The project's client, trusting the consortium's web CA.
            let status = try await node.client.status()
            #expect(status["chainId"]?.stringValue?.isEmpty == false)

            // curl, as a phone's browser would: the verify page and an API route.
            let page = try #require(
                try await runTool(
                    "curl", ["-sS", "--cacert", tls.ca, "-w", "\n%{http_code}", "https://localhost:\(port)/verify"]))
            #expect(page.status == 0, "\(page.output)")
            #expect(page.output.hasSuffix("\n200"))
            #expect(page.output.contains("<html"))
            let api = try #require(
                try await runTool(
                    "curl", ["-sS", "--cacert", tls.ca, "-w", "\n%{http_code}", "https://127.0.0.1:\(port)/v1/status"]))
            #expect(api.status == 0, "\(api.output)")
            #expect(api.output.hasSuffix("\n200"))
            #expect(api.output.contains("\"chainId\""))

            // Without the CA the certificate is refused (curl: 60, peer certificate not verified).
            let untrusted = try #require(try await runTool("curl", ["-sS", "https://localhost:\(port)/v1/status"]))
            #expect(untrusted.status == 60, "\(untrusted.output)")
            // Plain HTTP on the TLS port gets no HTTP answer.
            let plain = try #require(
                try await runTool(
                    "curl", ["-sS", "--max-time", "10", "-w", "%{http_code}", "http://127.0.0.1:\(port)/v1/status"]))
            #expect(plain.status != 0)
            #expect(!plain.output.contains("200"))

            // A connection that never starts its handshake is closed after the idle timeout (2 s).
            let started = ContinuousClock.now
            let stalled = await HostileHTTPTests.exchange(port: port, [], timeout: 10)
            #expect(stalled.closed)
            #expect(ContinuousClock.now - started < .seconds(8))
            // The node still serves.
            #expect(try await node.client.status()["chainId"] != nil)
            #expect(node.stop(signal: SIGTERM) == 0)
        }
    }

    @Test func badTLSSettingsStopTheNodeWithBadConfig() async throws {
        try await withTemporaryDirectory { dir in
            let other = try await Self.makeCertificates(in: dir.appendingPathComponent("other"))
            let tls = try await Self.makeCertificates(in: dir.appendingPathComponent("tls"))
            let cases: [(cert: String?, key: String?, says: String)] = [
                (tls.cert, nil, "give both or neither"),
                (tls.cert, other.key, "does not fit"),
                (dir.appendingPathComponent("missing.crt").path, tls.key, "API certificate"),
                (tls.key, tls.key, "API certificate"),
            ]
            for (i, c) in cases.enumerated() {
                let home = try await Self.initNode(dir.appendingPathComponent("n\(i)"), cert: c.cert, key: c.key)
                let port = freeLocalPort()
                let node = try NodeProcess(home: home, port: port, scheme: "https")
                await #expect(throws: ChainError.self) { try await node.waitUntilReady(timeout: .seconds(60)) }
                let log = node.logTail(40)
                #expect(log.contains("bad_config"), "case \(i): \(log)")
                #expect(log.contains(c.says), "case \(i): \(log)")
                node.stop(signal: SIGKILL)
            }
        }
    }
}
