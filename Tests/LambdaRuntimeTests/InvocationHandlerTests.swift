import Foundation
import Generation
import LambdaRuntime
import Serving
import Testing
import TestSupport

/// Records what the handler sent, as the Runtime API would receive it.
final class RecordingRuntimeAPI: RuntimeAPI, @unchecked Sendable {
    enum Sent: Equatable {
        case response(body: Data, contentType: String)
        case error(LambdaErrorPayload)
        case stream(contentType: String, body: Data, failure: LambdaErrorPayload?)
    }

    var sent: [Sent] = []
    var failWritesAfter: Int?

    func next() throws -> RuntimeInvocation { throw RuntimeAPIError.connectionLost(path: "next", detail: "test has no more events") }
    func respond(requestID: String, body: Data, contentType: String) throws { sent.append(.response(body: body, contentType: contentType)) }
    func reportError(requestID: String, _ error: LambdaErrorPayload) throws { sent.append(.error(error)) }
    func reportInitError(_ error: LambdaErrorPayload) throws { sent.append(.error(error)) }
    func openStream(requestID: String, contentType: String) throws -> any ResponseStreamWriter {
        sent.append(.stream(contentType: contentType, body: Data(), failure: nil))
        return Writer(api: self, index: sent.count - 1)
    }

    final class Writer: ResponseStreamWriter {
        let api: RecordingRuntimeAPI
        let index: Int
        var writes = 0
        init(api: RecordingRuntimeAPI, index: Int) { self.api = api; self.index = index }
        func write(_ bytes: Data) throws {
            writes += 1
            if let limit = api.failWritesAfter, writes > limit { throw RuntimeAPIError.connectionLost(path: "stream", detail: "cut by test") }
            guard case .stream(let type, var body, let failure) = api.sent[index] else { return }
            body.append(bytes)
            api.sent[index] = .stream(contentType: type, body: body, failure: failure)
        }
        func finish() throws {}
        func fail(_ error: LambdaErrorPayload) throws {
            guard case .stream(let type, let body, _) = api.sent[index] else { return }
            api.sent[index] = .stream(contentType: type, body: body, failure: error)
        }
    }
}

@Suite("Invocation handler on SmolLM2", .enabled(if: TestAssets.has(TestAssets.smolLM2)), .serialized)
struct InvocationHandlerTests {
    static let loaded: LoadedModel? = try? LoadedModel(path: TestAssets.smolLM2.path, threads: 2)

    func handler(_ edit: (inout RuntimeConfiguration) -> Void = { _ in }) throws -> (InvocationHandler, Lines) {
        let loaded = try #require(Self.loaded)
        var config = RuntimeConfiguration(runtimeAPI: "127.0.0.1:1", model: loaded.path, threads: 2)
        edit(&config)
        let generator = try loaded.makeGenerator(context: 256)
        let validator = RequestValidator(model: loaded, modelName: "smollm2", contextLength: 256)
        let lines = Lines()
        let log = RuntimeLog(functionName: "test") { lines.append($0) }
        return (InvocationHandler(configuration: config, generator: generator, validator: validator, log: log), lines)
    }

    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [String] = []
        func append(_ s: String) { lock.withLock { items.append(s) } }
        var all: [String] { lock.withLock { items } }
    }

    func invoke(_ handler: InvocationHandler, _ event: String, deadline: Int64? = nil) throws -> RecordingRuntimeAPI {
        let api = RecordingRuntimeAPI()
        try handler.handle(RuntimeInvocation(requestID: "req-1", deadlineMilliseconds: deadline, event: Data(event.utf8)), api: api)
        return api
    }

    static func json(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("a direct completion is answered with text, finish reason, usage and timings")
    func directCompletion() throws {
        let (handler, lines) = try handler()
        let api = try invoke(handler, #"{"prompt": "The capital of France is", "max_tokens": 4, "temperature": 0}"#)
        guard case .response(let body, let type)? = api.sent.first else { Issue.record("no response: \(api.sent)"); return }
        #expect(type == "application/json")
        let answer = try Self.json(body)
        #expect(answer["object"] as? String == "lambda_llm.completion")
        #expect(!(answer["text"] as? String ?? "").isEmpty)
        #expect(["stop", "length"].contains(answer["finish_reason"] as? String))
        #expect((answer["usage"] as? [String: Any])?["completion_tokens"] as? Int ?? 0 > 0)
        #expect(answer["timings"] is [String: Any])
        #expect(answer["deadline_reached"] as? Bool == false)
        #expect(lines.all.contains { $0.contains("completionTokens") && $0.contains(#""route":"direct:completion""#) })
        #expect(!lines.all.contains { $0.contains("The capital of France") }, "prompt text logged")
    }

    @Test("an invalid direct request is reported as an invocation error naming the field")
    func directInvalid() throws {
        let (handler, _) = try handler()
        let api = try invoke(handler, #"{"prompt": "x", "max_tokens": "many"}"#)
        guard case .error(let payload)? = api.sent.first else { Issue.record("not an error: \(api.sent)"); return }
        #expect(payload.errorType == "BadRequest")
        #expect(payload.param == "max_tokens")
    }

    @Test("a deadline already passed ends generation at once, marked as the deadline's doing")
    func deadline() throws {
        let (handler, _) = try handler { $0.deadlineMarginMilliseconds = 1000 }
        let soon = Int64(Date().timeIntervalSince1970 * 1000) + 500  // inside the margin: no time to generate
        let api = try invoke(handler, #"{"prompt": "Once upon a time", "max_tokens": 200, "temperature": 0}"#, deadline: soon)
        guard case .response(let body, _)? = api.sent.first else { Issue.record("no response"); return }
        let answer = try Self.json(body)
        #expect(answer["deadline_reached"] as? Bool == true)
        #expect(answer["finish_reason"] as? String == "length")
        #expect((answer["usage"] as? [String: Any])?["completion_tokens"] as? Int ?? 99 <= 1)
    }

    @Test("function URL routes answer in payload format 2.0, errors with OpenAI error bodies")
    func httpRoutes() throws {
        let (handler, _) = try handler()
        let models = try invoke(handler, String(decoding: LambdaEventTests.httpEvent(method: "GET", path: "/v1/models", body: nil), as: UTF8.self))
        guard case .response(let body, _)? = models.sent.first else { Issue.record("no response"); return }
        let answer = try Self.json(body)
        #expect(answer["statusCode"] as? Int == 200)
        #expect(answer["isBase64Encoded"] as? Bool == false)
        let inner = try Self.json(Data((answer["body"] as? String ?? "").utf8))
        #expect(((inner["data"] as? [[String: Any]])?.first)?["id"] as? String == "smollm2")

        for (method, path, status) in [("POST", "/nope", 404), ("GET", "/v1/completions", 405)] {
            let api = try invoke(handler, String(decoding: LambdaEventTests.httpEvent(method: method, path: path, body: nil), as: UTF8.self))
            guard case .response(let body, _)? = api.sent.first else { Issue.record("no response"); continue }
            let answer = try Self.json(body)
            #expect(answer["statusCode"] as? Int == status)
            #expect(try Self.json(Data((answer["body"] as? String ?? "").utf8))["error"] is [String: Any])
        }
    }

    @Test("a streamed function-URL chat starts with the prelude and ends with [DONE]")
    func streamedChat() throws {
        let (handler, _) = try handler()
        let body = #"{"messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 4, "temperature": 0, "stream": true}"#
        let api = try invoke(handler, String(decoding: LambdaEventTests.httpEvent(path: "/v1/chat/completions", body: body), as: UTF8.self))
        guard case .stream(let type, let data, let failure)? = api.sent.first else { Issue.record("no stream: \(api.sent)"); return }
        #expect(type == "application/vnd.awslambda.http-integration-response")
        #expect(failure == nil)
        let split = try #require(data.firstRange(of: Data(repeating: 0, count: 8)))
        let prelude = try Self.json(Data(data[..<split.lowerBound]))
        #expect(prelude["statusCode"] as? Int == 200)
        #expect((prelude["headers"] as? [String: String])?["content-type"] == "text/event-stream")
        let events = String(decoding: data[split.upperBound...], as: UTF8.self)
        #expect(events.hasPrefix("data: {"))
        #expect(events.contains(#""role":"assistant""#))
        #expect(events.hasSuffix("data: [DONE]\n\n"))
    }

    @Test("RESPONSE_STREAM mode sends even an error as a stream whose prelude holds the status")
    func responseStreamMode() throws {
        let (handler, _) = try handler { $0.invokeMode = .responseStream }
        let api = try invoke(handler, String(decoding: LambdaEventTests.httpEvent(body: #"{"prompt": ""}"#), as: UTF8.self))
        guard case .stream(_, let data, _)? = api.sent.first else { Issue.record("no stream: \(api.sent)"); return }
        let split = try #require(data.firstRange(of: Data(repeating: 0, count: 8)))
        #expect(try Self.json(Data(data[..<split.lowerBound]))["statusCode"] as? Int == 400)
        #expect(try Self.json(Data(data[split.upperBound...]))["error"] is [String: Any])
    }

    @Test("an injected mid-stream fault ends the stream with error trailers")
    func midStreamFault() throws {
        let (handler, _) = try handler { $0.faultInjection = FaultInjection("stream-error-after:2") }
        let api = try invoke(handler, #"{"prompt": "Once upon a time", "max_tokens": 16, "temperature": 0, "stream": true}"#)
        guard case .stream(let type, let data, let failure)? = api.sent.first else { Issue.record("no stream"); return }
        #expect(type == "text/event-stream")
        #expect(failure?.errorType == "InternalError")
        #expect(String(decoding: data, as: UTF8.self).components(separatedBy: "data: ").count >= 3)
    }

    @Test("a stream whose connection dies is given up without answering twice")
    func brokenStream() throws {
        let (handler, _) = try handler()
        let api = RecordingRuntimeAPI()
        api.failWritesAfter = 2
        #expect(throws: RuntimeAPIError.self) {
            try handler.handle(RuntimeInvocation(requestID: "r", event: Data(#"{"prompt": "Hello", "max_tokens": 32, "stream": true}"#.utf8)), api: api)
        }
        #expect(api.sent.count == 1)
    }

    @Test("an API key is required on HTTP events when configured, but not for /health")
    func apiKey() throws {
        let (handler, _) = try handler { $0.apiKey = "secret-key" }
        let refused = try invoke(handler, String(decoding: LambdaEventTests.httpEvent(method: "GET", path: "/v1/models", body: nil), as: UTF8.self))
        guard case .response(let body, _)? = refused.sent.first else { Issue.record("no response"); return }
        #expect(try Self.json(body)["statusCode"] as? Int == 401)
        let health = try invoke(handler, String(decoding: LambdaEventTests.httpEvent(method: "GET", path: "/health", body: nil), as: UTF8.self))
        guard case .response(let hb, _)? = health.sent.first else { Issue.record("no response"); return }
        #expect(try Self.json(hb)["statusCode"] as? Int == 200)
    }
}
