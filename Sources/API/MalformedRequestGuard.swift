import ChainCore
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Answers a request the HTTP parser refuses (a request line or header over the limits, raw
/// non-ASCII bytes in the request line, garbage) with `400` or `431` in the API's error shape,
/// and closes the connection. Without it such a connection got neither an answer nor a close.
final class MalformedRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundOut = HTTPServerResponsePart

    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let (status, code, message): (HTTPResponseStatus, ErrorCode, String) =
            switch parserError {
            case .headerOverflow: (.requestHeaderFieldsTooLarge, .tooLarge, "the request's header is too large")
            case .invalidURL, .invalidPath:
                (.badRequest, .malformed, "the request target must be ASCII: percent-encode other characters")
            default: (.badRequest, .malformed, "the request is not valid HTTP/1.1 (\(parserError))")
            }
        let body = JSONValue.object([
            "error": .object(["code": .string(code.rawValue), "message": .string(message)])
        ]).canonicalBytes
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        // The channel (Sendable) closes once the answer is out; the context may not cross into the callback.
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Closes a connection whose first request head (up to the blank line) has not arrived within
/// `timeout` of connecting: a client that connects and sends nothing, or trickles bytes, holds
/// no connection for long. Once the head is in, it leaves the pipeline (the HTTP server's own
/// idle timeout covers the time between later requests).
final class FirstRequestTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var tail: [UInt8] = []

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).readableBytesView
        // The head ends at the first CRLF CRLF, which may straddle two reads.
        let done = Self.containsEnd(tail + bytes.prefix(3)) || bytes.withUnsafeBytes { Self.containsEnd($0) }
        tail = Array((tail + bytes.suffix(3)).suffix(3))
        context.fireChannelRead(data)
        if done {
            timer?.cancel()
            timer = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    static func containsEnd<C: RandomAccessCollection>(_ c: C) -> Bool where C.Element == UInt8, C.Index == Int {
        guard c.count >= 4 else { return false }
        var i = c.startIndex
        while i <= c.endIndex - 4 {
            if c[i] == 13, c[i + 1] == 10, c[i + 2] == 13, c[i + 3] == 10 { return true }
            i += 1
        }
        return false
    }
}

/// A child channel that adds `MalformedRequestHandler` behind the HTTP parser of `inner`, and
/// `FirstRequestTimeoutHandler` in front of it.
struct GuardedChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    let inner: Inner
    let firstRequestTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Inner.Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            try channel.pipeline.syncOperations.addHandler(MalformedRequestHandler(), position: .last)
            try channel.pipeline.syncOperations.addHandler(
                FirstRequestTimeoutHandler(timeout: firstRequestTimeout), position: .first)
            return value
        }
    }

    func handle(value: Inner.Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
