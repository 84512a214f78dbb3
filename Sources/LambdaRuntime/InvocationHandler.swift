/// Answers one invocation: tells the event shape apart, validates through the shared
/// request layer, generates within the invocation's deadline, and posts the answer in
/// the shape the caller expects (direct JSON, payload-format-2.0 JSON, or a stream).
/// A bad request is answered, never thrown: only a Runtime API failure leaves here as
/// an error, because only that can end the process.
import Foundation
import Generation
import Serving

public final class InvocationHandler: @unchecked Sendable {
    static let httpIntegrationContentType = "application/vnd.awslambda.http-integration-response"
    /// Ends the prelude of a streamed HTTP answer.
    static let preludeSeparator = Data(repeating: 0, count: 8)

    let configuration: RuntimeConfiguration
    let generator: Generator
    let validator: RequestValidator
    let modelName: String
    let log: RuntimeLog
    private let apiKey: APIKey?
    private let started = Int(Date().timeIntervalSince1970)

    public init(configuration: RuntimeConfiguration, generator: Generator, validator: RequestValidator, log: RuntimeLog) {
        self.configuration = configuration
        self.generator = generator
        self.validator = validator
        self.modelName = validator.modelName
        self.log = log
        self.apiKey = APIKey(configuration.apiKey)
    }

    public func handle(_ invocation: RuntimeInvocation, api: any RuntimeAPI) throws {
        let deadline = generationDeadline(invocation)
        switch LambdaEvent(invocation.event) {
        case .direct(let body, let kind):
            try direct(body, kind: kind, requestID: invocation.requestID, deadline: deadline, api: api)
        case .http(let event):
            try http(event, requestID: invocation.requestID, deadline: deadline, api: api)
        case .badHTTP(let error):
            try answerHTTP(status: error.status, json: error.json(), requestID: invocation.requestID, api: api)
            log.invocation(route: "?", status: error.status, promptTokens: 0, result: nil, streamed: false)
        }
    }

    /// The invocation's deadline less the margin for posting the answer; nil when
    /// Lambda gave none (a local run).
    func generationDeadline(_ invocation: RuntimeInvocation, now: Date = Date()) -> ContinuousClock.Instant? {
        guard let deadline = invocation.deadlineMilliseconds else { return nil }
        let nowMilliseconds = Int64((now.timeIntervalSince1970 * 1000).rounded())
        let left = max(0, deadline - nowMilliseconds - Int64(configuration.deadlineMarginMilliseconds))
        return ContinuousClock.now.advanced(by: .milliseconds(left))
    }

    // MARK: Direct invocations

    private func direct(_ body: Data, kind: RequestKind, requestID: String, deadline: ContinuousClock.Instant?, api: any RuntimeAPI) throws {
        let route = kind == .chat ? "direct:chat" : "direct:completion"
        let request: ValidatedRequest
        do {
            request = try kind == .chat ? validator.chat(body) : validator.completion(body)
        } catch {
            try api.reportError(requestID: requestID, LambdaErrorPayload(error))
            log.invocation(route: route, status: error.status, promptTokens: 0, result: nil, streamed: false)
            return
        }
        if request.stream {
            let writer = try api.openStream(requestID: requestID, contentType: "text/event-stream")
            try stream(request, route: route, deadline: deadline, to: writer)
            return
        }
        switch generate(request, deadline: deadline, onText: { _ in true }) {
        case .success(let result):
            let id = ResponseID.make(prefix: kind == .chat ? "chatcmpl" : "cmpl")
            try api.respond(requestID: requestID, body: OpenAIResponses.direct(id: id, created: now(), request: request, result: result),
                            contentType: "application/json")
            log.invocation(route: route, status: 200, promptTokens: request.promptTokens.count, result: result, streamed: false)
        case .failure(let error):
            try api.reportError(requestID: requestID, LambdaErrorPayload(error))
            log.invocation(route: route, status: error.status, promptTokens: request.promptTokens.count, result: nil, streamed: false)
        }
    }

    // MARK: HTTP events

    private func http(_ event: HTTPEvent, requestID: String, deadline: ContinuousClock.Instant?, api: any RuntimeAPI) throws {
        let path = event.path
        do {
            let route = try OpenAIRoute.match(method: event.method, path: path)
            if route != .health, let apiKey, !apiKey.accepts(authorization: event.headers["authorization"]) {
                throw APIError.unauthorized()
            }
            switch route {
            case .health:
                try answerHTTP(status: 200, json: OpenAIResponses.health(model: modelName), requestID: requestID, api: api)
                log.invocation(route: route.path, status: 200, promptTokens: 0, result: nil, streamed: false)
            case .models:
                try answerHTTP(status: 200, json: OpenAIResponses.models(name: modelName, created: started), requestID: requestID, api: api)
                log.invocation(route: route.path, status: 200, promptTokens: 0, result: nil, streamed: false)
            case .completions, .chatCompletions:
                let request = try route == .chatCompletions ? validator.chat(event.body) : validator.completion(event.body)
                if request.stream {
                    let writer = try api.openStream(requestID: requestID, contentType: Self.httpIntegrationContentType)
                    try writer.write(Self.prelude(status: 200, headers: [("content-type", "text/event-stream"), ("cache-control", "no-cache")]))
                    try stream(request, route: route.path, deadline: deadline, to: writer)
                    return
                }
                switch generate(request, deadline: deadline, onText: { _ in true }) {
                case .success(let result):
                    let id = ResponseID.make(prefix: request.kind == .chat ? "chatcmpl" : "cmpl")
                    try answerHTTP(status: 200, json: OpenAIResponses.completion(id: id, created: now(), request: request, result: result),
                                   requestID: requestID, api: api)
                    log.invocation(route: route.path, status: 200, promptTokens: request.promptTokens.count, result: result, streamed: false)
                case .failure(let error):
                    throw error
                }
            }
        } catch let error as APIError {
            var headers: [(String, String)] = []
            if error.status == 401 { headers.append(("www-authenticate", "Bearer")) }
            try answerHTTP(status: error.status, json: error.json(), extraHeaders: headers, requestID: requestID, api: api)
            log.invocation(route: path, status: error.status, promptTokens: 0, result: nil, streamed: false)
        }
    }

    /// A whole HTTP answer: payload-format-2.0 JSON, or under RESPONSE_STREAM a
    /// stream whose prelude carries the status.
    private func answerHTTP(status: Int, json: Data, extraHeaders: [(String, String)] = [], requestID: String, api: any RuntimeAPI) throws {
        let headers = [("content-type", "application/json")] + extraHeaders
        switch configuration.invokeMode {
        case .responseStream:
            let writer = try api.openStream(requestID: requestID, contentType: Self.httpIntegrationContentType)
            try writer.write(Self.prelude(status: status, headers: headers))
            try writer.write(json)
            try writer.finish()
        case .buffered:
            let answer = JSONText.object([
                ("statusCode", .int(status)),
                ("headers", .object(headers.map { ($0.0, JSONText.string($0.1)) })),
                ("body", .string(String(decoding: json, as: UTF8.self))),
                ("isBase64Encoded", .bool(false)),
            ])
            try api.respond(requestID: requestID, body: answer.data, contentType: "application/json")
        }
    }

    static func prelude(status: Int, headers: [(String, String)]) -> Data {
        var data = JSONText.object([
            ("statusCode", .int(status)),
            ("headers", .object(headers.map { ($0.0, JSONText.string($0.1)) })),
        ]).data
        data.append(preludeSeparator)
        return data
    }

    // MARK: Streaming

    /// Server-sent events in OpenAI's chunk format. A failure after the first byte
    /// went out cannot change the status any more: it goes out as an error event
    /// (for OpenAI clients) and as the error trailers (for Lambda).
    private func stream(_ request: ValidatedRequest, route: String, deadline: ContinuousClock.Instant?, to writer: any ResponseStreamWriter) throws {
        let id = ResponseID.make(prefix: request.kind == .chat ? "chatcmpl" : "cmpl")
        let created = now()
        var writeFailure: (any Error)?
        var events = 0
        var injected = false
        let faultAfter = configuration.faultInjection?.streamErrorAfterEvents
        func write(_ bytes: Data) -> Bool {
            guard writeFailure == nil else { return false }
            do { try writer.write(bytes) } catch { writeFailure = error; return false }
            return true
        }
        func send(_ json: Data) -> Bool { write(ServerSentEvents.event(json)) }
        if request.kind == .chat { _ = send(OpenAIResponses.roleChunk(id: id, created: created, request: request)) }
        let outcome = generate(request, deadline: deadline) { text in
            if let faultAfter, events >= faultAfter { injected = true; return false }
            events += 1
            return send(OpenAIResponses.chunk(id: id, created: created, request: request, text: text, finishReason: nil))
        }
        if let writeFailure { throw writeFailure }
        let result: GenerationResult
        switch outcome {
        case .success(let r) where !injected:
            result = r
        case .success:
            let error = APIError.internalError("fault injected after \(events) stream events (LAMBDA_LLM_FAULT_INJECTION)")
            try failStream(writer, error)
            log.invocation(route: route, status: 500, promptTokens: request.promptTokens.count, result: nil, streamed: true)
            return
        case .failure(let error):
            try failStream(writer, error)
            log.invocation(route: route, status: error.status, promptTokens: request.promptTokens.count, result: nil, streamed: true)
            return
        }
        _ = send(OpenAIResponses.chunk(id: id, created: created, request: request, text: nil, finishReason: result.finishReason, result: result))
        if request.includeUsageInStream { _ = send(OpenAIResponses.usageChunk(id: id, created: created, request: request, result: result)) }
        _ = write(ServerSentEvents.done)
        if let writeFailure { throw writeFailure }
        try writer.finish()
        log.invocation(route: route, status: 200, promptTokens: request.promptTokens.count, result: result, streamed: true)
    }

    private func failStream(_ writer: any ResponseStreamWriter, _ error: APIError) throws {
        try? writer.write(ServerSentEvents.error(error))
        try writer.fail(LambdaErrorPayload(error))
    }

    // MARK: Generation

    private func generate(_ request: ValidatedRequest, deadline: ContinuousClock.Instant?, onText: (String) -> Bool) -> Result<GenerationResult, APIError> {
        var generation = request.generation
        generation.deadline = deadline
        do {
            return .success(try generator.generate(generation, onText: onText))
        } catch {
            generator.reset()
            return .failure(APIError.from(error))
        }
    }

    private func now() -> Int { Int(Date().timeIntervalSince1970) }
}
