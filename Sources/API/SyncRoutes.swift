import ChainCore
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import Node
import Storage

/// How other nodes and live views follow the chain: `GET /v1/sync/blocks` (final blocks with
/// their signatures, for observers) and the WebSocket `GET /v1/stream` of committed blocks.
///
/// The stream: on connect the node sends `{"type":"hello","height":H}`; then
/// `{"type":"block","block":{…}}` (the shape of `GET /v1/blocks/{height}`) for every block
/// committed after H, in order, or from `?from=N` when given (at most 100 blocks back). The node
/// checks its store every 250 ms; a client that closes the socket ends the stream. Messages the
/// client sends are ignored.
struct SyncRoutes: Sendable {
    let api: APIContext
    var node: ChainNode { api.node }

    var routes: RouteCollection<NodeRequestContext> {
        let r = RouteCollection(context: NodeRequestContext.self)
        r.get("sync/blocks") { request, _ in try self.syncBlocks(request) }
        r.get("snapshots/latest") { _, _ in try self.latestSnapshot() }
        r.get("snapshots/:height/chunks/:index") { _, context in try self.snapshotChunk(context) }
        return r
    }

    /// `GET /v1/snapshots/latest`: the newest state snapshot this node offers
    /// (`ChainNode.snapshotOffer`); 404 when it takes none.
    func latestSnapshot() throws -> Response {
        guard let offer = try node.snapshotOffer() else {
            throw ChainError(.notFound, "this node offers no state snapshot (snapshotInterval)")
        }
        return JSONResponse.make(offer)
    }

    /// `GET /v1/snapshots/{height}/chunks/{index}`: one chunk of a snapshot this node holds, as bytes.
    func snapshotChunk(_ context: NodeRequestContext) throws -> Response {
        guard let raw = context.parameters.get("height"), let height = UInt64(raw),
            let rawIndex = context.parameters.get("index"), let index = Int(rawIndex), index >= 0
        else { throw ChainError(.invalidParameter, "height and index must be non-negative integers") }
        guard let bytes = node.snapshots?.chunk(height: height, index: index) else {
            throw ChainError(.notFound, "no chunk \(index) of a snapshot at height \(height) here")
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `GET /v1/sync/blocks?from=H&limit=N`: committed blocks from H with their finality
    /// signatures, as a binary `BlockSyncBatch`; it stops before the first block that does not yet
    /// carry a quorum of signatures, and after about 4 MiB.
    func syncBlocks(_ request: Request) throws -> Response {
        let q = request.uri.queryParameters
        guard let raw = q.get("from"), let from = UInt64(raw), from >= 1 else {
            throw ChainError(.invalidParameter, "from must be an integer ≥ 1")
        }
        var limit = 64
        if let raw = q.get("limit") {
            guard let v = Int(raw), (1...BlockSyncBatch.maxBlocks).contains(v) else {
                throw ChainError(.invalidParameter, "limit must be 1–\(BlockSyncBatch.maxBlocks)")
            }
            limit = v
        }
        let blocks = try node.finalBlocks(from: from, limit: limit)
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        return Response(
            status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: BlockSyncBatch.encode(blocks))))
    }

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

    /// Serves the block feed until the client closes it, or leaves a block unread for `idle`
    /// (then the connection is closed: a client that does not read would hold a close frame back
    /// too). Waiting for the next block is the node's time, not the client's.
    func stream(
        from: UInt64?, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel,
        idle: Duration
    ) async throws {
        let store = node.store
        let tip = try store.tip()?.height ?? 0
        let start = from.map { max($0, tip >= Self.maxStreamReplay ? tip - Self.maxStreamReplay + 1 : 1) } ?? tip + 1
        let watch = StallWatch(clientsTurn: false)
        func send(_ text: String) async throws {
            watch.clientsTurn()
            try await outbound.write(.text(text))
            watch.nodesTurn()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await watch.watch(channel, limit: idle) }
            // The client's side: read until it closes, then stop the sender.
            group.addTask {
                for try await _ in inbound {}
            }
            group.addTask {
                try await send(JSONValue.object(["type": .string("hello"), "height": .int(Int64(tip))]).canonicalString)
                var next = start
                while !Task.isCancelled {
                    while let block = try store.block(at: next) {
                        let message: JSONValue = .object(["type": .string("block"), "block": JSONViews.block(block)])
                        try await send(message.canonicalString)
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
