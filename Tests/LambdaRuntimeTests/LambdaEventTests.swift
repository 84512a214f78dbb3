import Foundation
import LambdaRuntime
import Serving
import Testing

@Suite("Lambda event shapes")
struct LambdaEventTests {
    static func httpEvent(method: String = "POST", path: String = "/v1/completions", body: String?, base64: Bool = false) -> Data {
        var object: [String: Any] = [
            "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
            "headers": ["Content-Type": "application/json", "authorization": "Bearer k"],
            "requestContext": ["http": ["method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"], "requestId": "r"],
            "isBase64Encoded": base64,
        ]
        if let body { object["body"] = body }
        return try! JSONSerialization.data(withJSONObject: object)
    }

    @Test("a request object is a direct invocation, kept byte for byte")
    func directEvent() {
        let body = Data(#"{"prompt": "hi", "max_tokens": 4}"#.utf8)
        #expect(LambdaEvent(body) == .direct(body, kind: .completion))
    }

    @Test("a direct event with messages is a chat")
    func directChat() {
        let body = Data(#"{"messages": [{"role": "user", "content": "hi"}]}"#.utf8)
        #expect(LambdaEvent(body) == .direct(body, kind: .chat))
    }

    @Test("bytes that are not JSON are a direct invocation for the validator to refuse")
    func garbageIsDirect() {
        let body = Data("not json".utf8)
        #expect(LambdaEvent(body) == .direct(body, kind: .completion))
    }

    @Test("a payload-format-2.0 event yields method, path, lower-case headers and body")
    func httpEvent() {
        guard case .http(let event) = LambdaEvent(Self.httpEvent(body: #"{"prompt":"x"}"#)) else {
            Issue.record("not an HTTP event")
            return
        }
        #expect(event.method == "POST")
        #expect(event.path == "/v1/completions")
        #expect(event.headers["content-type"] == "application/json")
        #expect(event.headers["authorization"] == "Bearer k")
        #expect(event.body == Data(#"{"prompt":"x"}"#.utf8))
    }

    @Test("a base64 body is decoded")
    func base64Body() {
        let encoded = Data(#"{"prompt":"x"}"#.utf8).base64EncodedString()
        guard case .http(let event) = LambdaEvent(Self.httpEvent(body: encoded, base64: true)) else {
            Issue.record("not an HTTP event")
            return
        }
        #expect(event.body == Data(#"{"prompt":"x"}"#.utf8))
    }

    @Test("a body marked base64 that is not base64 is a 400 naming the problem")
    func badBase64() {
        guard case .badHTTP(let error) = LambdaEvent(Self.httpEvent(body: "%%% not base64 %%%", base64: true)) else {
            Issue.record("accepted")
            return
        }
        #expect(error.status == 400)
        #expect(error.message.contains("base64"))
    }

    @Test("an API Gateway payload format 1.0 event is refused with the setting to change")
    func formatOneRefused() throws {
        let v1 = try JSONSerialization.data(withJSONObject: ["httpMethod": "POST", "path": "/v1/completions", "requestContext": ["stage": "prod"], "body": "{}"])
        guard case .badHTTP(let error) = LambdaEvent(v1) else {
            Issue.record("accepted")
            return
        }
        #expect(error.message.contains("2.0"))
    }

    @Test("a GET event without a body has an empty body")
    func noBody() {
        guard case .http(let event) = LambdaEvent(Self.httpEvent(method: "GET", path: "/v1/models", body: nil)) else {
            Issue.record("not an HTTP event")
            return
        }
        #expect(event.body.isEmpty)
        #expect(event.method == "GET")
    }
}

@Suite("Runtime configuration from the environment")
struct RuntimeConfigurationTests {
    let base = ["AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "LAMBDA_LLM_MODEL": "/opt/model/m.gguf"]

    @Test("defaults: buffered answers, 1 s margin, cores as threads, /tmp downloads")
    func defaults() throws {
        let c = try RuntimeConfiguration.fromEnvironment(base, cores: 3)
        #expect(c.invokeMode == .buffered)
        #expect(c.deadlineMarginMilliseconds == 1000)
        #expect(c.threads == 3)
        #expect(c.downloadDirectory == "/tmp")
        #expect(c.contextLength == nil)
        #expect(c.faultInjection == nil)
    }

    @Test("a missing model variable names it and says what to set")
    func missingModel() {
        #expect(throws: RuntimeConfiguration.Failure.self) { try RuntimeConfiguration.fromEnvironment(["AWS_LAMBDA_RUNTIME_API": "x:1"]) }
        do {
            _ = try RuntimeConfiguration.fromEnvironment(["AWS_LAMBDA_RUNTIME_API": "x:1"])
        } catch {
            #expect(error.description.contains("LAMBDA_LLM_MODEL"))
            #expect(error.description.contains("s3://"))
        }
    }

    @Test("invalid numbers and modes are refused, naming the variable and the range")
    func invalidValues() {
        for (name, value) in [("LAMBDA_LLM_THREADS", "0"), ("LAMBDA_LLM_CONTEXT", "lots"), ("LAMBDA_LLM_INVOKE_MODE", "STREAMY"),
                              ("LAMBDA_LLM_DEADLINE_MARGIN_MS", "-5"), ("LAMBDA_LLM_FAULT_INJECTION", "explode")] {
            var env = base
            env[name] = value
            do {
                _ = try RuntimeConfiguration.fromEnvironment(env)
                Issue.record("\(name)=\(value) accepted")
            } catch {
                #expect(error.description.contains(name))
            }
        }
    }

    @Test("a blank API key is refused instead of silently turning authentication off; an empty one means none")
    func blankAPIKey() throws {
        var env = base
        env["LAMBDA_LLM_API_KEY"] = "   "
        #expect(throws: RuntimeConfiguration.Failure.self) { try RuntimeConfiguration.fromEnvironment(env) }
        env["LAMBDA_LLM_API_KEY"] = ""
        #expect(try RuntimeConfiguration.fromEnvironment(env).apiKey == nil)
        env["LAMBDA_LLM_API_KEY"] = "k-123"
        #expect(try RuntimeConfiguration.fromEnvironment(env).apiKey == "k-123")
    }

    @Test("settings are read: mode case-insensitively, fault injection spec parsed")
    func settingsRead() throws {
        var env = base
        env["LAMBDA_LLM_INVOKE_MODE"] = "response_stream"
        env["LAMBDA_LLM_THREADS"] = "6"
        env["LAMBDA_LLM_CONTEXT"] = "2048"
        env["LAMBDA_LLM_FAULT_INJECTION"] = "stream-error-after:3"
        let c = try RuntimeConfiguration.fromEnvironment(env)
        #expect(c.invokeMode == .responseStream)
        #expect(c.threads == 6)
        #expect(c.contextLength == 2048)
        #expect(c.faultInjection?.streamErrorAfterEvents == 3)
    }
}

@Suite("Lambda error payloads")
struct LambdaErrorPayloadTests {
    @Test("a request-layer error becomes errorType by status, with its message, status and param")
    func fromAPIError() throws {
        let payload = LambdaErrorPayload(APIError.invalidField("max_tokens", "max_tokens must be an integer"))
        #expect(payload.errorType == "BadRequest")
        let json = try #require(try JSONSerialization.jsonObject(with: payload.json) as? [String: Any])
        #expect(json["errorMessage"] as? String == "max_tokens must be an integer")
        #expect(json["errorType"] as? String == "BadRequest")
        #expect(json["status"] as? Int == 400)
        #expect(json["param"] as? String == "max_tokens")
        #expect((json["stackTrace"] as? [Any])?.isEmpty == true)
    }

    @Test("statuses map to the error types callers switch on")
    func types() {
        #expect(LambdaErrorPayload(APIError.bodyTooLarge(bytes: 10, limit: 5)).errorType == "PayloadTooLarge")
        #expect(LambdaErrorPayload(APIError.internalError("x")).errorType == "InternalError")
        #expect(LambdaErrorPayload(APIError.notFound(path: "/x")).errorType == "NotFound")
    }
}
