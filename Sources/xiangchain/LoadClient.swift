import ChainCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection for load generation: requests go out one at a time and
/// each answer is read whole. Lighter than URLSession, so the load generator leaves more of a
/// small machine to the nodes it measures.
struct LoadConnection {
    typealias Channel = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    /// A response: status and body bytes.
    struct Reply {
        let status: Int
        let body: [UInt8]
    }

    /// Connects to `host:port` and runs `body` with a function that performs one request; the
    /// connection closes when `body` returns.
    static func with<T: Sendable>(
        host: String, port: Int, _ body: (_ request: (HTTPMethod, String, [UInt8]?) async throws -> Reply) async throws -> T
    ) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try Channel(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            return try await body { method, path, payload in
                var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
                head.headers.add(name: "Host", value: "\(host):\(port)")
                head.headers.add(name: "Content-Type", value: "application/json")
                head.headers.add(name: "Content-Length", value: "\(payload?.count ?? 0)")
                try await outbound.write(.head(head))
                if let payload { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: payload)))) }
                try await outbound.write(.end(nil))
                var status = 0
                var bytes: [UInt8] = []
                while let part = try await responses.next() {
                    switch part {
                    case .head(let h): status = Int(h.status.code)
                    case .body(let b): bytes += b.readableBytesView
                    case .end: return Reply(status: status, body: bytes)
                    }
                }
                throw ChainError(.connectionClosed, "the node closed the connection mid-answer")
            }
        }
    }
}
