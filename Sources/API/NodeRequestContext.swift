import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The request context of the node's API: Hummingbird's core context plus the client's address
/// as the TCP connection gives it (rate limits, sign-in throttling and the audit log use it; a
/// client-supplied `X-Forwarded-For` is believed only from a configured trusted proxy).
public struct NodeRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's core context.
    public var coreContext: CoreRequestContextStorage
    /// The peer address of the connection.
    public let remoteAddress: SocketAddress?

    /// Creates the context of a request arriving on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's address as a string (`ip` without the port), or `-` when unknown.
    public var clientAddress: String { remoteAddress?.ipAddress ?? "-" }
}

/// The client address of the request being handled, for code that has no request context at
/// hand (the audit log, sign-in throttling, rate limits). Set by `ClientAddressMiddleware`.
enum RequestOrigin {
    /// The client's address, or `-` outside a request.
    @TaskLocal static var address = "-"
}

/// Sets `RequestOrigin.address` for each request: the connection's peer address, or, when that
/// peer is one of `trustedProxies`, the last address its `X-Forwarded-For` names.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = NodeRequestContext
    let trustedProxies: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var address = context.clientAddress
        if trustedProxies.contains(address), let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!],
            let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty,
            last.utf8.count <= 64
        {
            address = last
        }
        return try await RequestOrigin.$address.withValue(address) { try await next(request, context) }
    }
}
