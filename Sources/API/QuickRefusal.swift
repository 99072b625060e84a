import ChainCore
import NIOCore
import NIOWebSocket
import Node

/// On the submission stream (`SubmissionStream`), refuses a message for lack of room on the event
/// loop that read it, when no earlier message of the connection waits for its answer: the refusal
/// frame is written right there, and flushed once per read (all the refusals of one read go out in
/// one write). Under overload most messages are refused, and each took a hop to Swift's
/// cooperative pool and one back (the inbound stream, the read-ahead, the answers, the outbound
/// writer: several thread wake-ups) to be told what a look at the mempool's size says.
///
/// Answers stay in order: a message is refused here only while every message passed on before it
/// has had its answer written (each answer, a text frame the stream writes, passes here on its way
/// out); otherwise it is passed on and the stream refuses it in its turn. It is not used once the
/// close handshake began, for a message in fragments, an unmasked or oversized frame or one with
/// reserved bits (passed on: the WebSocket handler answers those), or while the channel is not
/// writable (a client that does not read its answers is slowed by the stream's writer, as before).
/// A message refused here is counted as admission's refusals are (`ChainRoutes.room`) and restarts
/// the client's turn of the stream's `StallWatch`: the client is sending.
final class QuickRefusal: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let node: ChainNode
    private let watch: StallWatch
    private let maxMessageBytes: Int
    /// Complete messages passed on whose answers have not been written.
    private var unanswered = 0
    /// A message in fragments has begun and not ended.
    private var inFragments = false
    /// Set for good once the close handshake began or the frames did not follow the protocol.
    private var off = false
    /// Refusals written since the last flush.
    private var unflushed = false
    /// The last refusal and its frame (under overload all are alike).
    private var kept: (error: ChainError, frame: WebSocketFrame)?

    init(node: ChainNode, watch: StallWatch, maxMessageBytes: Int) {
        self.node = node
        self.watch = watch
        self.maxMessageBytes = maxMessageBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            if inFragments {
                off = true  // a new message inside another: the WebSocket handler refuses it
            } else if frame.fin {
                if refuse(frame, context: context) { return }
                unanswered += 1
            } else {
                inFragments = true
            }
        case .continuation:
            if !inFragments {
                off = true
            } else if frame.fin {
                inFragments = false
                unanswered += 1
            }
        case .connectionClose:
            off = true
        default:
            break
        }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if unflushed {
            unflushed = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            // The stream's answers are one frame each, one per message passed on.
            if frame.fin {
                if unanswered > 0 { unanswered -= 1 } else { off = true }
            }
        case .connectionClose:
            off = true
        default:
            break
        }
        context.write(data, promise: promise)
    }

    /// Writes the refusal of `frame` and returns true when it is refused here.
    private func refuse(_ frame: WebSocketFrame, context: ChannelHandlerContext) -> Bool {
        guard !off, unanswered == 0, context.channel.isWritable, frame.maskKey != nil, frame.reservedBits.isEmpty,
            frame.length <= maxMessageBytes
        else { return false }
        let error: ChainError
        do throws(ChainError) {
            _ = try ChainRoutes.room(node)
            return false
        } catch let refusal {
            error = refusal
        }
        let answer: WebSocketFrame
        if let kept, kept.error == error {
            answer = kept.frame
        } else {
            let text = ChainRoutes.refused(txid: nil, error).canonicalString
            answer = WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text))
            kept = (error, answer)
        }
        context.write(wrapOutboundOut(answer), promise: nil)
        node.metrics.refusedOnRead()
        unflushed = true
        watch.clientsTurn()
        return true
    }
}

/// Puts `QuickRefusal` behind the WebSocket frame decoder once the upgrade has built the stream's
/// pipeline, before any frame is decoded (so that every message the stream reads has passed it,
/// and its count of unanswered messages is exact). Added when the upgrade is accepted, behind the
/// upgrade handler (which holds back what follows the request until the upgrade is done), it sits
/// in front of the handlers the upgrade adds; on the first bytes it sees it places the refusal
/// behind the decoder (and its protocol-error handler), and leaves.
final class QuickRefusalInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let make: () -> QuickRefusal

    init(_ make: @escaping () -> QuickRefusal) { self.make = make }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let pipeline = context.pipeline.syncOperations
        // Without it (no decoder: the upgrade did not happen) the stream answers every message itself.
        if let decoder = try? pipeline.context(handlerType: ByteToMessageHandler<WebSocketFrameDecoder>.self) {
            let anchor = (try? pipeline.context(handlerType: WebSocketProtocolErrorHandler.self)) ?? decoder
            try? pipeline.addHandler(make(), position: .after(anchor.handler))
        }
        context.fireChannelRead(data)
        pipeline.removeHandler(context: context, promise: nil)
    }
}
