import ChainCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web console: static files from the `Console` resource folder, served outside `/v1`.
///
/// Every file is read once, at first use, into a table keyed by its path below `Console/`; a
/// request is answered only from that table, so no path a client sends (`..`, `%2e%2e`, `//`) can
/// reach a file outside the folder. Page routes: `/` → `index.html`, `/verify` and the GS1 Digital
/// Link paths a printed QR code points at (`/01/…`, `/255/…`, `/00/…`, `/414/…`) → `verify.html`,
/// `/explorer`, `/signin`, `/workspace`, `/desk`, `/governance`, `/village` (三资 村务公开) and
/// `/review` (the township reviewer's desk) → their pages.
public struct ConsoleFiles: Sendable {
    /// One file: its bytes and content type.
    public struct File: Sendable {
        public let bytes: [UInt8]
        public let contentType: String
    }

    /// Files by path relative to the console folder (`index.html`, `js/verify.js`).
    public let files: [String: File]

    /// The files bundled with the `API` module.
    public static let bundled = ConsoleFiles(folder: Bundle.module.resourceURL?.appendingPathComponent("Console"))

    /// Reads every file below `folder` (none when it is nil or missing).
    public init(folder: URL?) {
        var table: [String: File] = [:]
        if let folder, let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) {
            let base = folder.standardizedFileURL.path
            for case let url as URL in walker {
                let path = url.standardizedFileURL.path
                guard path.hasPrefix(base + "/"), let type = Self.contentType(path),
                    let data = FileManager.default.contents(atPath: path)
                else { continue }
                table[String(path.dropFirst(base.count + 1))] = File(bytes: Array(data), contentType: type)
            }
        }
        files = table
    }

    /// The content type of a served file, by extension; nil for kinds that are not served.
    static func contentType(_ path: String) -> String? {
        switch (path as NSString).pathExtension.lowercased() {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "json": "application/json"
        case "ico": "image/x-icon"
        default: nil
        }
    }

    /// First path segments of GS1 Digital Link URIs that open the verify page.
    static let digitalLinkPrefixes: Set<String> = ["01", "255", "00", "414"]

    /// The file a request path names, or nil. The path is taken as sent (before any decoding):
    /// a page route, or a file name made of plain segments only.
    public func file(forPath rawPath: String) -> File? {
        let path = rawPath.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        switch segments.first ?? "" {
        case "": return segments.count <= 1 ? files["index.html"] : nil
        case "verify": return segments.count == 1 ? files["verify.html"] : nil
        case "explorer", "signin", "workspace", "desk", "governance", "village", "review":
            return segments.count == 1 ? files["\(segments[0]).html"] : nil
        case let first where Self.digitalLinkPrefixes.contains(first):
            return segments.count >= 2 ? files["verify.html"] : nil
        default: break
        }
        // Plain segments only: letters, digits, '-', '_' and inner dots; no '..', '%', '\' or empty segment.
        let plain = segments.allSatisfy { s in
            !s.isEmpty && !s.hasPrefix(".")
                && s.unicodeScalars.allSatisfy { c in
                    (c.isASCII && (CharacterSet.alphanumerics.contains(c))) || c == "-" || c == "_" || c == "."
                }
        }
        guard plain, !segments.contains(where: { $0.contains("..") }) else { return nil }
        return files[segments.joined(separator: "/")]
    }
}

/// Serves `ConsoleFiles` for GET and HEAD outside `/v1`; everything else goes on to the router.
struct ConsoleMiddleware<Context: RequestContext>: RouterMiddleware {
    let console: ConsoleFiles

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let raw = request.head.path ?? request.uri.string
        guard request.method == .get || request.method == .head, !raw.hasPrefix("/v1/"), raw != "/v1",
            raw != "/metrics", !raw.hasPrefix("/metrics?")
        else {
            return try await next(request, context)
        }
        guard let file = console.file(forPath: raw) else {
            throw ChainError(.notFound, "no page or file \(raw.prefix(200))")
        }
        var headers = HTTPFields()
        headers[.contentType] = file.contentType
        headers[.cacheControl] = "no-cache"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
