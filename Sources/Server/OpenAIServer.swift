/// Server: `lambda-llm serve`, an OpenAI-compatible HTTP server on Hummingbird over one
/// loaded model. Owns HTTP concerns only (routes, auth, queueing, streaming, metrics,
/// logs); request parsing, validation, answers and error objects come from Serving,
/// the request layer the Lambda runtime shares, so both front doors answer alike.
import Foundation
import Generation
import HTTPTypes
import Hummingbird
import ModelFiles
import Serving

public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var apiKey: APIKey?
    /// Requests that may wait while one generates; more get 429.
    public var maxQueue = 8
    public var modelName: String
    public var logPrompts = false
    public var limits = ServingLimits()
    /// Seconds a refused client is told to wait (Retry-After).
    public var retryAfterSeconds = 2
    /// A connection that sends nothing this long, between requests or in the middle of
    /// one, is closed. Without it a client that left after an early answer (a 413 sent
    /// before its body was read) kept its socket open for good.
    public var idleTimeoutSeconds = 30

    public init(modelName: String) { self.modelName = modelName }
}

public final class OpenAIServer: @unchecked Sendable {
    let configuration: ServerConfiguration
    let generator: Generator
    let validator: RequestValidator
    let queue: GenerationQueue
    let metrics = ServerMetrics()
    /// The generator is synchronous and CPU-bound: it runs here, never on NIO's event loops.
    let work = DispatchQueue(label: "lambda-llm.generation")
    let started = Int(Date().timeIntervalSince1970)

    public init(model: LoadedModel, generator: Generator, configuration: ServerConfiguration) {
        self.configuration = configuration
        self.generator = generator
        self.validator = RequestValidator(
            model: model, modelName: configuration.modelName,
            contextLength: generator.session.contextLength, limits: configuration.limits
        )
        self.queue = GenerationQueue(capacity: configuration.maxQueue)
    }

    public func run(onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let router = Router()
        router.add(middleware: OpenAIErrorMiddleware(server: self))
        router.get("health") { _, _ in
            Self.json(status: 200, OpenAIResponses.health(model: self.configuration.modelName))
        }
        router.get("metrics") { _, _ in
            self.metrics.setQueueDepth(await self.queue.depth)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: self.metrics.render())))
        }
        router.get("v1/models") { request, _ in
            try self.authorize(request)
            return Self.json(status: 200, OpenAIResponses.models(name: self.configuration.modelName, created: self.started))
        }
        router.post("v1/completions") { request, _ in try await self.generate(request, kind: .completion) }
        router.post("v1/chat/completions") { request, _ in try await self.generate(request, kind: .chat) }

        let host = configuration.host, port = configuration.port
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
            configuration: .init(address: .hostname(host, port: port), serverName: "lambda-llm"),
            onServerRunning: { _ in onListening("http://\(host):\(port)") }
        )
        try await app.runService()
    }

    // MARK: Generation

    private func generate(_ request: Request, kind: RequestKind) async throws -> Response {
        try authorize(request)
        let body = try await collectBody(request)
        let validated = try kind == .chat ? validator.chat(body) : validator.completion(body)
        guard await queue.enter() else {
            throw APIError.queueFull(retryAfterSeconds: configuration.retryAfterSeconds)
        }
        metrics.setQueueDepth(await queue.depth)
        if configuration.logPrompts {
            Self.log("prompt route=\(Self.route(kind)) text=\(JSONString.quoted(String(decoding: body, as: UTF8.self)))")
        }
        return validated.stream ? stream(validated, kind: kind) : try await complete(validated, kind: kind)
    }

    private func complete(_ request: ValidatedRequest, kind: RequestKind) async throws -> Response {
        let cancel = CancelFlag()
        let result = await withTaskCancellationHandler {
            await runGeneration(request.generation, cancel: cancel) { _ in }
        } onCancel: {
            cancel.set()
        }
        await queue.leave()
        switch result {
        case .success(let r):
            record(kind: kind, status: 200, result: r)
            let id = ResponseID.make(prefix: kind == .chat ? "chatcmpl" : "cmpl")
            return Self.json(status: 200, OpenAIResponses.completion(id: id, created: Int(Date().timeIntervalSince1970), request: request, result: r))
        case .failure(let error):
            throw error
        }
    }

    /// Server-sent events: chunks as tokens complete, a final chunk with the finish
    /// reason, usage if asked, then [DONE]. A client that goes away ends the stream,
    /// which cancels the generation at its next token.
    private func stream(_ request: ValidatedRequest, kind: RequestKind) -> Response {
        let (events, continuation) = AsyncStream<ByteBuffer>.makeStream()
        let cancel = CancelFlag()
        continuation.onTermination = { _ in cancel.set() }
        let id = ResponseID.make(prefix: kind == .chat ? "chatcmpl" : "cmpl")
        let created = Int(Date().timeIntervalSince1970)
        @Sendable func send(_ json: Data) { continuation.yield(ByteBuffer(bytes: ServerSentEvents.event(json))) }
        Task {
            if kind == .chat { send(OpenAIResponses.roleChunk(id: id, created: created, request: request)) }
            let result = await self.runGeneration(request.generation, cancel: cancel) { text in
                send(OpenAIResponses.chunk(id: id, created: created, request: request, text: text, finishReason: nil))
            }
            switch result {
            case .success(let r):
                send(OpenAIResponses.chunk(id: id, created: created, request: request, text: nil,
                                           finishReason: r.finishReason, result: r))
                if request.includeUsageInStream { send(OpenAIResponses.usageChunk(id: id, created: created, request: request, result: r)) }
                self.record(kind: kind, status: cancel.isSet ? 499 : 200, result: r)
            case .failure(let error):
                continuation.yield(ByteBuffer(bytes: ServerSentEvents.error(error)))
                self.record(kind: kind, status: error.status, result: nil)
            }
            continuation.yield(ByteBuffer(bytes: ServerSentEvents.done))
            continuation.finish()
            await self.queue.leave()
            self.metrics.setQueueDepth(await self.queue.depth)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: events))
    }

    private func runGeneration(
        _ request: GenerationRequest, cancel: CancelFlag, onText: @escaping @Sendable (String) -> Void
    ) async -> Result<GenerationResult, APIError> {
        let generator = self.generator
        return await withCheckedContinuation { continuation in
            work.async {
                do {
                    let result = try generator.generate(request) { text in
                        onText(text)
                        return !cancel.isSet
                    }
                    continuation.resume(returning: .success(result))
                } catch {
                    generator.reset()
                    continuation.resume(returning: .failure(APIError.from(error)))
                }
            }
        }
    }

    // MARK: HTTP helpers

    func authorize(_ request: Request) throws {
        guard let key = configuration.apiKey else { return }
        guard key.accepts(authorization: request.headers[.authorization]) else { throw APIError.unauthorized() }
    }

    private func collectBody(_ request: Request) async throws -> Data {
        let limit = configuration.limits.maxBodyBytes
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError.bodyTooLarge(bytes: declared, limit: limit)
        }
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch {
            throw APIError.bodyTooLarge(bytes: limit + 1, limit: limit)
        }
    }

    private func record(kind: RequestKind, status: Int, result: GenerationResult?) {
        let route = Self.route(kind)
        metrics.recordRequest(route: route, status: status)
        guard let r = result else {
            Self.log("method=POST route=\(route) status=\(status)")
            return
        }
        let t = r.timings
        metrics.recordGeneration(promptTokens: t.promptTokens, generatedTokens: t.generatedTokens,
                                 ttft: t.timeToFirstTokenSeconds, decodeTokensPerSecond: t.decodeTokensPerSecond)
        Self.log(String(format: "method=POST route=%@ status=%d prompt_tokens=%d completion_tokens=%d ttft=%.3f duration=%.3f finish=%@",
                        route, status, t.promptTokens, t.generatedTokens, t.timeToFirstTokenSeconds, t.totalSeconds,
                        r.finishReason == .length ? "length" : "stop"))
    }

    func logRequest(method: String, path: String, status: Int) {
        // Paths come from clients: only known routes get a series of their own, or
        // anyone could grow the metrics without bound, before any key is checked.
        metrics.recordRequest(route: OpenAIRoute.at(path: path)?.path ?? (path == "/metrics" ? path : "other"), status: status)
        Self.log("method=\(method) route=\(path) status=\(status)")
    }

    static func route(_ kind: RequestKind) -> String { kind == .chat ? "/v1/chat/completions" : "/v1/completions" }

    static func json(status: Int, _ data: Data, headers extra: HTTPFields = HTTPFields()) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Set once, read from the generation thread after each token.
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// Every failure leaves as an OpenAI error object, whoever raised it: our APIError,
/// Hummingbird's own (unknown route, wrong method), or anything unexpected (500).
struct OpenAIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let server: OpenAIServer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let method = request.method.rawValue
        do {
            // The shared route table answers unknown paths and wrong methods exactly as
            // the Lambda runtime does (404/405); /metrics is this server's own.
            if path != "/metrics" { _ = try OpenAIRoute.match(method: method, path: path) }
            let response = try await next(request, context)
            if !(path.hasPrefix("/v1/") && request.method == .post) || response.status.code >= 400 {
                server.logRequest(method: method, path: path, status: response.status.code)
            }
            return response
        } catch let error as APIError {
            server.logRequest(method: method, path: path, status: error.status)
            var headers = HTTPFields()
            if error.status == 429, let retry = HTTPField.Name("Retry-After") {
                headers[retry] = String(server.configuration.retryAfterSeconds)
            }
            if error.status == 401 { headers[.wwwAuthenticate] = "Bearer" }
            return OpenAIServer.json(status: error.status, error.json(), headers: headers)
        } catch let error as HTTPError {
            let apiError: APIError
            switch error.status.code {
            case 404: apiError = .notFound(path: path)
            case 405: apiError = .methodNotAllowed(method, path: path)
            case 413: apiError = .bodyTooLarge(bytes: server.configuration.limits.maxBodyBytes + 1, limit: server.configuration.limits.maxBodyBytes)
            default: apiError = APIError(status: error.status.code, message: error.body ?? error.status.reasonPhrase,
                                         type: error.status.code >= 500 ? "server_error" : "invalid_request_error", param: nil, code: nil)
            }
            server.logRequest(method: method, path: path, status: apiError.status)
            return OpenAIServer.json(status: apiError.status, apiError.json())
        } catch {
            let apiError = APIError.internalError("\(error)")
            server.logRequest(method: method, path: path, status: 500)
            return OpenAIServer.json(status: 500, apiError.json())
        }
    }
}
