import Logging
import NIOCore

/// Keeps an idle connection alive and notices a dead one.
///
/// After this node has written nothing for `interval`, it writes a ping frame (if the socket is
/// writable). A connection is closed when it has been waiting for the peer's bytes for longer than
/// `idleTimeout`: time during which this node itself is not reading (back-pressure from a slow
/// consumer) does not count. Inbound pings are consumed here. Nothing is sent before the first
/// outbound frame (the hello) so that the hello is always first.
///
/// It also keeps reading while the connection closes: once the application side has stopped
/// reading (`NIOAsyncChannel` stops asking for reads when its inbound stream ends), the TLS
/// handler could otherwise never see the peer's close_notify and would wait out its whole
/// shutdown timeout. Bytes that arrive while closing are discarded.
final class KeepaliveHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let interval: TimeAmount
    private let idleTimeout: TimeAmount
    private let logger: Logger
    private var lastWrite = NIODeadline.now()
    private var wroteFirstFrame = false
    private var waitingForPeerSince: NIODeadline?
    private var timer: Scheduled<Void>?
    private var closing = false

    init(interval: TimeAmount, idleTimeout: TimeAmount, logger: Logger) {
        self.interval = interval
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { schedule(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        schedule(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        waitingForPeerSince = nil
        if closing { return }
        let frame = unwrapInboundIn(data)
        if frame.readableBytes == 1, frame.getInteger(at: frame.readerIndex, as: UInt8.self) == FrameKind.ping.rawValue {
            return
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if closing {
            context.read()
            return
        }
        context.fireChannelReadComplete()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, !closing else {
            context.close(mode: mode, promise: promise)
            return
        }
        closing = true
        cancelTimer()
        context.close(mode: mode, promise: promise)
        if context.channel.isActive { context.read() }
    }

    func read(context: ChannelHandlerContext) {
        if waitingForPeerSince == nil { waitingForPeerSince = .now() }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        wroteFirstFrame = true
        lastWrite = .now()
        context.write(data, promise: promise)
    }

    private func schedule(_ context: ChannelHandlerContext) {
        guard timer == nil, !closing else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: min(interval, idleTimeout)) {
            self.timer = nil
            self.tick(context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    private func tick(_ context: ChannelHandlerContext) {
        guard context.channel.isActive, !closing else { return }
        let now = NIODeadline.now()
        if let since = waitingForPeerSince, now - since > idleTimeout {
            logger.warning(
                "closing connection: peer silent",
                metadata: ["idle_seconds": "\(Double((now - since).nanoseconds) / 1e9)"])
            context.close(promise: nil)
            return
        }
        if wroteFirstFrame, context.channel.isWritable, now - lastWrite >= interval {
            var ping = context.channel.allocator.buffer(capacity: 1)
            ping.writeInteger(FrameKind.ping.rawValue)
            lastWrite = now
            context.writeAndFlush(wrapOutboundOut(ping), promise: nil)
        }
        schedule(context)
    }
}
