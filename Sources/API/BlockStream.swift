import ChainCore
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import Node
import Storage

/// `GET /v1/stream` (WebSocket): committed blocks as they are stored, one JSON text message each.
///
/// On connect the node sends `{"type":"hello","height":H}`; then `{"type":"block","block":{…}}`
/// (the shape of `GET /v1/blocks/{height}`) for every block committed after H, in order, or from
/// `?from=N` when given (at most 100 blocks back). The node checks its store every 250 ms; a client
/// that closes the socket ends the stream. Messages the client sends are ignored.
extension ChainAPI {
    /// The path of the stream.
    static let streamPath = "/v1/stream"
    /// Most blocks replayed for `?from=`.
    static let maxStreamReplay: UInt64 = 100

    /// True for the stream's path, with or without a query.
    static func isStream(_ target: String?) -> Bool {
        target?.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) == streamPath
    }

    /// `from=N` in the request target, if any.
    static func streamStart(query target: String) -> UInt64? {
        guard let q = target.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in q.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == "from", let v = UInt64(kv[1]), v >= 1 { return v }
        }
        return nil
    }

    func stream(from: UInt64?, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let store = node.store
        let tip = try store.tip()?.height ?? 0
        let start = from.map { max($0, tip >= Self.maxStreamReplay ? tip - Self.maxStreamReplay + 1 : 1) } ?? tip + 1
        try await outbound.write(.text(JSONValue.object(["type": .string("hello"), "height": .int(Int64(tip))]).canonicalString))
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The client's side: read until it closes, then stop the sender.
            group.addTask {
                for try await _ in inbound {}
            }
            group.addTask {
                var next = start
                while !Task.isCancelled {
                    while let block = try store.block(at: next) {
                        let message: JSONValue = .object(["type": .string("block"), "block": JSONViews.block(block)])
                        try await outbound.write(.text(message.canonicalString))
                        next += 1
                    }
                    try await Task.sleep(for: .milliseconds(250))
                }
            }
            _ = try await group.next()
            group.cancelAll()
        }
    }
}
