/// The Lambda Runtime API client: one keep-alive HTTP/1.1 connection on SwiftNIO to
/// `AWS_LAMBDA_RUNTIME_API`, used from one thread that blocks on each call. A runtime
/// serves one invocation at a time, so blocking is the protocol's own shape; the event
/// loop only moves bytes. Streaming answers go out as chunked bodies whose trailers
/// carry a mid-stream error, which is why this is NIO and not a higher-level client.
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

public enum RuntimeAPIError: Error, CustomStringConvertible, Equatable {
    case badEndpoint(String)
    case connectionFailed(endpoint: String, detail: String)
    case connectionLost(path: String, detail: String)
    case missingHeader(String)
    /// The Runtime API refused what we sent (400/403/413 on a response, say).
    case refused(path: String, status: Int, body: String)
    /// 500 from the Runtime API: the sandbox is broken and the runtime must exit.
    case sandboxFailure(path: String, body: String)

    public var description: String {
        switch self {
        case .badEndpoint(let value):
            return "AWS_LAMBDA_RUNTIME_API must be HOST:PORT (got \(value.isEmpty ? "nothing" : "'\(value)'"))"
        case .connectionFailed(let endpoint, let detail):
            return "cannot connect to the Runtime API at \(endpoint): \(detail)"
        case .connectionLost(let path, let detail):
            return "connection to the Runtime API lost during \(path): \(detail)"
        case .missingHeader(let name):
            return "the Runtime API's next invocation lacks the \(name) header"
        case .refused(let path, let status, let body):
            return "the Runtime API answered \(status) to \(path): \(body.prefix(500))"
        case .sandboxFailure(let path, let body):
            return "the Runtime API answered 500 to \(path) (sandbox failure, exiting): \(body.prefix(500))"
        }
    }
}

/// One invocation as `next` delivered it.
public struct RuntimeInvocation: Sendable, Equatable {
    public var requestID: String
    /// Unix epoch milliseconds by which the answer must be complete.
    public var deadlineMilliseconds: Int64?
    public var invokedFunctionARN: String?
    public var traceID: String?
    public var clientContext: String?
    public var cognitoIdentity: String?
    public var event: Data

    public init(requestID: String, deadlineMilliseconds: Int64? = nil, invokedFunctionARN: String? = nil,
                traceID: String? = nil, clientContext: String? = nil, cognitoIdentity: String? = nil, event: Data) {
        self.requestID = requestID
        self.deadlineMilliseconds = deadlineMilliseconds
        self.invokedFunctionARN = invokedFunctionARN
        self.traceID = traceID
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
        self.event = event
    }
}

/// What the runtime loop needs from the Runtime API; the NIO client implements it,
/// tests substitute a recorder.
public protocol RuntimeAPI: AnyObject {
    func next() throws -> RuntimeInvocation
    func respond(requestID: String, body: Data, contentType: String) throws
    func reportError(requestID: String, _ error: LambdaErrorPayload) throws
    func reportInitError(_ error: LambdaErrorPayload) throws
    /// Starts a streamed answer: headers go out now, the body as it is written.
    func openStream(requestID: String, contentType: String) throws -> any ResponseStreamWriter
}

/// A streamed answer in flight. `finish` ends it normally; `fail` ends it with the
/// error trailers Lambda reads for a stream that broke after its status went out.
public protocol ResponseStreamWriter: AnyObject {
    func write(_ bytes: Data) throws
    func finish() throws
    func fail(_ error: LambdaErrorPayload) throws
}

public final class RuntimeAPIClient: RuntimeAPI, @unchecked Sendable {
    static let basePath = "/2018-06-01"
    let host: String
    let port: Int
    let endpoint: String
    private let group: MultiThreadedEventLoopGroup
    private var channel: Channel?
    private var collector: ResponseCollector?

    /// `endpoint` is the value of `AWS_LAMBDA_RUNTIME_API`: "host:port".
    public init(endpoint: String) throws(RuntimeAPIError) {
        guard let colon = endpoint.lastIndex(of: ":"),
              let port = Int(endpoint[endpoint.index(after: colon)...]), (1...65535).contains(port),
              colon != endpoint.startIndex
        else { throw .badEndpoint(endpoint) }
        var host = String(endpoint[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host
        self.port = port
        self.endpoint = endpoint
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    deinit {
        try? channel?.close().wait()
        try? group.syncShutdownGracefully()
    }

    // MARK: RuntimeAPI

    public func next() throws -> RuntimeInvocation {
        let path = Self.basePath + "/runtime/invocation/next"
        let response = try exchange(method: .GET, path: path, headers: [], body: nil)
        guard response.status == 200 else { throw failure(path: path, response) }
        let h = response.headers
        guard let id = h.first(name: "Lambda-Runtime-Aws-Request-Id"), !id.isEmpty else {
            throw RuntimeAPIError.missingHeader("Lambda-Runtime-Aws-Request-Id")
        }
        return RuntimeInvocation(
            requestID: id,
            deadlineMilliseconds: h.first(name: "Lambda-Runtime-Deadline-Ms").flatMap { Int64($0) },
            invokedFunctionARN: h.first(name: "Lambda-Runtime-Invoked-Function-Arn"),
            traceID: h.first(name: "Lambda-Runtime-Trace-Id"),
            clientContext: h.first(name: "Lambda-Runtime-Client-Context"),
            cognitoIdentity: h.first(name: "Lambda-Runtime-Cognito-Identity"),
            event: response.body
        )
    }

    public func respond(requestID: String, body: Data, contentType: String) throws {
        let path = Self.basePath + "/runtime/invocation/\(Self.escape(requestID))/response"
        try post(path: path, body: body, headers: [("Content-Type", contentType)])
    }

    public func reportError(requestID: String, _ error: LambdaErrorPayload) throws {
        let path = Self.basePath + "/runtime/invocation/\(Self.escape(requestID))/error"
        try post(path: path, body: error.json, headers: [
            ("Content-Type", LambdaErrorPayload.contentType),
            ("Lambda-Runtime-Function-Error-Type", error.errorType),
        ])
    }

    public func reportInitError(_ error: LambdaErrorPayload) throws {
        try post(path: Self.basePath + "/runtime/init/error", body: error.json, headers: [
            ("Content-Type", LambdaErrorPayload.contentType),
            ("Lambda-Runtime-Function-Error-Type", error.errorType),
        ])
    }

    public func openStream(requestID: String, contentType: String) throws -> any ResponseStreamWriter {
        let path = Self.basePath + "/runtime/invocation/\(Self.escape(requestID))/response"
        let (channel, collector) = try connection(for: path)
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: endpoint)
        head.headers.add(name: "Content-Type", value: contentType)
        head.headers.add(name: "Lambda-Runtime-Function-Response-Mode", value: "streaming")
        head.headers.add(name: "Transfer-Encoding", value: "chunked")
        head.headers.add(name: "Trailer", value: "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body")
        let promise = channel.eventLoop.makePromise(of: CollectedResponse.self)
        let requestHead = head  // a constant: the closure runs on the event loop
        do {
            try channel.eventLoop.flatSubmit {
                collector.expect(promise)
                return channel.writeAndFlush(HTTPClientRequestPart.head(requestHead))
            }.wait()
        } catch {
            dropConnection()
            throw RuntimeAPIError.connectionLost(path: path, detail: "\(error)")
        }
        return StreamingResponse(client: self, channel: channel, path: path, response: promise.futureResult)
    }

    // MARK: HTTP

    struct CollectedResponse {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
    }

    private func post(path: String, body: Data, headers: [(String, String)]) throws {
        let response = try exchange(method: .POST, path: path, headers: headers, body: body)
        guard (200..<300).contains(response.status) else { throw failure(path: path, response) }
    }

    func failure(path: String, _ response: CollectedResponse) -> RuntimeAPIError {
        let text = String(decoding: response.body, as: UTF8.self)
        return response.status >= 500 ? .sandboxFailure(path: path, body: text)
            : .refused(path: path, status: response.status, body: text)
    }

    private func exchange(method: HTTPMethod, path: String, headers: [(String, String)], body: Data?) throws -> CollectedResponse {
        let (channel, collector) = try connection(for: path)
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: endpoint)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        if let body { head.headers.add(name: "Content-Length", value: String(body.count)) }
        let promise = channel.eventLoop.makePromise(of: CollectedResponse.self)
        let payload = body.map { ByteBuffer(bytes: $0) }
        let requestHead = head  // a constant: the closure runs on the event loop
        do {
            // Never a timeout: `next` long-polls until Lambda has an invocation.
            return try channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
                collector.expect(promise)
                channel.write(HTTPClientRequestPart.head(requestHead), promise: nil)
                if let payload { channel.write(HTTPClientRequestPart.body(.byteBuffer(payload)), promise: nil) }
                return channel.writeAndFlush(HTTPClientRequestPart.end(nil))
            }.flatMap { promise.futureResult }.wait()
        } catch {
            dropConnection()
            throw RuntimeAPIError.connectionLost(path: path, detail: "\(error)")
        }
    }

    private func connection(for path: String) throws -> (Channel, ResponseCollector) {
        if let channel, channel.isActive, let collector { return (channel, collector) }
        let collector = ResponseCollector()
        do {
            let channel = try ClientBootstrap(group: group)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(collector)
                    }
                }
                .connect(host: host, port: port).wait()
            self.channel = channel
            self.collector = collector
            return (channel, collector)
        } catch {
            throw RuntimeAPIError.connectionFailed(endpoint: endpoint, detail: "\(error)")
        }
    }

    func dropConnection() {
        try? channel?.close().wait()
        channel = nil
        collector = nil
    }

    /// Request ids are UUIDs from Lambda, but they go into a path: never let one
    /// carry a slash or a space there.
    static func escape(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id
    }
}

/// Collects each HTTP response on the connection and hands it to the promise the
/// matching request registered, in order. Lives on the channel's event loop only.
final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    private var pending: [EventLoopPromise<RuntimeAPIClient.CollectedResponse>] = []
    private var head: HTTPResponseHead?
    private var body = Data()

    func expect(_ promise: EventLoopPromise<RuntimeAPIClient.CollectedResponse>) {
        pending.append(promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = Data()
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let h = head else { return }
            head = nil
            if !pending.isEmpty {
                pending.removeFirst().succeed(.init(status: Int(h.status.code), headers: h.headers, body: body))
            }
            if !h.isKeepAlive { context.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: Error) {
        let waiting = pending
        pending = []
        for promise in waiting { promise.fail(error) }
    }
}

/// A chunked POST to `/response` in streaming mode. Each write is flushed at once
/// (a token should reach the client now, not when a buffer fills) and waited on, so
/// a dead connection stops the generation at the next token.
final class StreamingResponse: ResponseStreamWriter {
    private let client: RuntimeAPIClient
    private let channel: Channel
    private let path: String
    private let response: EventLoopFuture<RuntimeAPIClient.CollectedResponse>
    private var ended = false

    init(client: RuntimeAPIClient, channel: Channel, path: String, response: EventLoopFuture<RuntimeAPIClient.CollectedResponse>) {
        self.client = client
        self.channel = channel
        self.path = path
        self.response = response
    }

    func write(_ bytes: Data) throws {
        guard !ended, !bytes.isEmpty else { return }
        do {
            try channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: bytes)))).wait()
        } catch {
            ended = true
            client.dropConnection()
            throw RuntimeAPIError.connectionLost(path: path, detail: "\(error)")
        }
    }

    func finish() throws { try end(trailers: nil) }

    func fail(_ error: LambdaErrorPayload) throws {
        var trailers = HTTPHeaders()
        trailers.add(name: "Lambda-Runtime-Function-Error-Type", value: error.errorType)
        trailers.add(name: "Lambda-Runtime-Function-Error-Body", value: error.json.base64EncodedString())
        try end(trailers: trailers)
    }

    private func end(trailers: HTTPHeaders?) throws {
        guard !ended else { return }
        ended = true
        let result: RuntimeAPIClient.CollectedResponse
        do {
            try channel.writeAndFlush(HTTPClientRequestPart.end(trailers)).wait()
            result = try response.wait()
        } catch {
            client.dropConnection()
            throw RuntimeAPIError.connectionLost(path: path, detail: "\(error)")
        }
        guard (200..<300).contains(result.status) else { throw client.failure(path: path, result) }
    }
}
