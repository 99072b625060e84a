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
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}

/// A child channel that adds `MalformedRequestHandler` behind the HTTP parser of `inner`.
struct GuardedChildChannel<Inner: ServerChildChannel>: ServerChildChannel {
    let inner: Inner

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Inner.Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            try channel.pipeline.syncOperations.addHandler(MalformedRequestHandler(), position: .last)
            return value
        }
    }

    func handle(value: Inner.Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}
