/// A Runtime API on loopback that serves one event and records the answer, so that
/// `lambda-llm invoke-local` runs the real runtime loop and handler without AWS. It
/// speaks the same protocol as Lambda: long-polled `next`, buffered and streamed
/// (chunked, with trailers) responses, invocation and init errors.
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// What the runtime sent back for the one event.
public struct LocalInvocationOutcome: Sendable, Equatable {
    public enum Kind: String, Sendable { case response, error, initError }
    public var kind: Kind
    public var contentType: String?
    public var streamed: Bool
    public var body: Data
    /// Trailers of a streamed answer (a stream that broke carries its error here).
    public var trailers: [String: String]
    public var errorType: String?
}

public final class LocalRuntimeAPI: @unchecked Sendable {
    public let requestID: String
    private let event: Data
    private let deadlineMilliseconds: Int64
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var channel: Channel?
    private let lock = NSLock()
    private var delivered = false
    private var outcome: LocalInvocationOutcome?
    private let finished = DispatchSemaphore(value: 0)

    public init(event: Data, timeoutSeconds: Double, requestID: String = UUID().uuidString.lowercased()) {
        self.event = event
        self.requestID = requestID
        self.deadlineMilliseconds = Int64((Date().timeIntervalSince1970 + timeoutSeconds) * 1000)
    }

    /// Binds 127.0.0.1 on a free port; returns "127.0.0.1:PORT" for AWS_LAMBDA_RUNTIME_API.
    public func start() throws -> String {
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(LocalRuntimeAPIHandler(api: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        self.channel = channel
        guard let port = channel.localAddress?.port else { throw ChannelError.unknownLocalAddress }
        return "127.0.0.1:\(port)"
    }

    public func stop() {
        try? channel?.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// Blocks until the runtime answered (or reported an init error).
    public func waitForOutcome(timeoutSeconds: Double) -> LocalInvocationOutcome? {
        _ = finished.wait(timeout: .now() + timeoutSeconds)
        return lock.withLock { outcome }
    }

    // MARK: Called by the handler, on the event loop

    /// The event for the first `next`; nil afterwards (that poll then just waits, as
    /// Lambda's does between invocations).
    func takeEvent() -> (Data, [(String, String)])? {
        lock.withLock {
            guard !delivered else { return nil }
            delivered = true
            return (event, [
                ("Lambda-Runtime-Aws-Request-Id", requestID),
                ("Lambda-Runtime-Deadline-Ms", String(deadlineMilliseconds)),
                ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:local:000000000000:function:invoke-local"),
                ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
            ])
        }
    }

    func record(_ outcome: LocalInvocationOutcome) {
        lock.withLock { self.outcome = outcome }
        finished.signal()
    }
}

/// One connection's requests: routes by path, collects bodies (chunked or not) and
/// trailers, answers 202 as Lambda does.
final class LocalRuntimeAPIHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let api: LocalRuntimeAPI
    private var head: HTTPRequestHead?
    private var body = Data()

    init(api: LocalRuntimeAPI) { self.api = api }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = Data()
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end(let trailers):
            guard let h = head else { return }
            head = nil
            route(h, trailers: trailers, context: context)
        }
    }

    private func route(_ head: HTTPRequestHead, trailers: HTTPHeaders?, context: ChannelHandlerContext) {
        let path = head.uri
        let base = "/2018-06-01/runtime/"
        if head.method == .GET, path == base + "invocation/next" {
            // Only one event: later polls stay open until the emulator stops.
            guard let (event, headers) = api.takeEvent() else { return }
            respond(context, status: .ok, headers: headers + [("Content-Type", "application/json")], body: event)
            return
        }
        guard head.method == .POST else { return respond(context, status: .notFound, body: Data("unknown route".utf8)) }
        let contentType = head.headers.first(name: "Content-Type")
        let streamed = head.headers.first(name: "Lambda-Runtime-Function-Response-Mode")?.lowercased() == "streaming"
        var trailerMap: [String: String] = [:]
        trailers?.forEach { trailerMap[$0.name] = $0.value }
        let errorType = head.headers.first(name: "Lambda-Runtime-Function-Error-Type")
        let invocation = base + "invocation/\(api.requestID)/"
        let kind: LocalInvocationOutcome.Kind
        switch path {
        case invocation + "response": kind = .response
        case invocation + "error": kind = .error
        case base + "init/error": kind = .initError
        default:
            return respond(context, status: .badRequest, body: Data("{\"errorMessage\":\"unknown request id or route\"}".utf8))
        }
        api.record(LocalInvocationOutcome(kind: kind, contentType: contentType, streamed: streamed, body: body,
                                          trailers: trailerMap, errorType: errorType))
        respond(context, status: .accepted, body: Data("{\"status\":\"OK\"}".utf8))
    }

    private func respond(_ context: ChannelHandlerContext, status: HTTPResponseStatus, headers: [(String, String)] = [], body: Data) {
        var head = HTTPResponseHead(version: .http1_1, status: status)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.add(name: "Content-Length", value: String(body.count))
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
