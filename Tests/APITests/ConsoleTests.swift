import API
import ChainTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The web console's static files: page routes, content types, and no way out of the folder.
@Suite struct ConsoleTests {
    func withClient(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let consortium = try TestConsortium()
        try await withTemporaryDirectory { dir in
            let node = try consortium.node(in: dir, config: nil)
            let app = Application(router: ChainAPI(node: node, maxWait: .seconds(5)).router())
            try await app.test(.router) { client in try await body(client) }
        }
    }

    func get(_ client: any TestClientProtocol, _ uri: String) async throws -> (HTTPResponse.Status, String?, String) {
        try await client.execute(uri: uri, method: .get) { r in
            (r.status, r.headers[.contentType], String(buffer: r.body))
        }
    }

    @Test func pagesAreServedWithTheirContentTypes() async throws {
        try await withClient { client in
            let pages: [(String, String)] = [
                ("/", "js/home.js"), ("/verify", "js/verify.js"), ("/verify?code=x", "js/verify.js"),
                ("/01/09521234543213/21/YC2600001?s=K7Q2M9XA", "js/verify.js"),
                ("/01/09521234543213/10/YC26-Z01", "js/verify.js"), ("/255/9521234543217123", "js/verify.js"),
                ("/00/106141411234567897", "js/verify.js"), ("/414/9521234000006?s=AB", "js/verify.js"),
                ("/explorer", "js/explorer.js"), ("/desk", "js/desk.js"), ("/workspace", "js/workspace.js"),
                ("/signin", "js/signin.js"),
            ]
            for (uri, script) in pages {
                let (status, type, body) = try await get(client, uri)
                #expect(status == .ok, "\(uri)")
                #expect(type == "text/html; charset=utf-8", "\(uri)")
                #expect(body.contains(script), "\(uri)")
            }
            let files: [(String, String)] = [
                ("/js/verify.js", "text/javascript; charset=utf-8"), ("/js/i18n.js", "text/javascript; charset=utf-8"),
                ("/css/console.css", "text/css; charset=utf-8"), ("/img/logo.svg", "image/svg+xml"),
            ]
            for (uri, want) in files {
                let (status, type, body) = try await get(client, uri)
                #expect(status == .ok, "\(uri)")
                #expect(type == want, "\(uri)")
                #expect(!body.isEmpty)
            }
        }
    }

    @Test func traversalAndUnknownFilesAreRefused() async throws {
        try await withClient { client in
            for uri in [
                "/../Package.swift", "/%2e%2e/Package.swift", "/js/../../Package.swift", "/js/%2e%2e/%2e%2e/Package.swift",
                "/..%2fPackage.swift", "//etc/passwd", "/js//verify.js", "/.hidden", "/js/nope.js", "/ConsoleFiles.swift",
                "/verify/extra", "/01", "/css/..%5c..%5cPackage.swift",
            ] {
                let (status, _, body) = try await get(client, uri)
                #expect(status == .notFound, "\(uri)")
                #expect(!body.contains("PackageDescription"), "\(uri)")
            }
        }
    }

    @Test func theAPIStillAnswersUnderV1() async throws {
        try await withClient { client in
            let (status, type, _) = try await get(client, "/v1/status")
            #expect(status == .ok)
            #expect(type?.hasPrefix("application/json") == true)
            let (missing, _, body) = try await get(client, "/v1/nope")
            #expect(missing == .notFound)
            #expect(body.contains("not_found"))
        }
    }
}
