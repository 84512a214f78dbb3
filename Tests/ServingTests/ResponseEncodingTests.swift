import Foundation
@testable import Generation
import Serving
import Testing

/// Answer bodies, stream chunks, SSE framing and error objects, decoded back with
/// JSONSerialization as a client would.
@Suite("Answer and error encoding")
struct ResponseEncodingTests {
    static func request(_ kind: RequestKind, includeUsage: Bool = false) -> ValidatedRequest {
        ValidatedRequest(
            kind: kind, model: "smol", promptTokens: [1, 2, 3],
            generation: GenerationRequest(promptTokens: [1, 2, 3], maxTokens: 8),
            stream: includeUsage, includeUsageInStream: includeUsage
        )
    }

    static let result: GenerationResult = {
        var timings = GenerationTimings()
        timings.promptTokens = 3
        timings.promptTokensEvaluated = 3
        timings.generatedTokens = 5
        timings.prefillSeconds = 0.5
        timings.timeToFirstTokenSeconds = 0.6
        timings.decodeSeconds = 2
        timings.totalSeconds = 2.6
        return GenerationResult(
            text: "Hi \"there\"\nline", tokens: [10, 11, 12, 13, 14], finishReason: .length,
            deadlineReached: true, timings: timings
        )
    }()

    func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func firstChoice(_ json: [String: Any]) throws -> [String: Any] {
        let choices = try #require(json["choices"] as? [[String: Any]])
        #expect(choices.count == 1)
        return try #require(choices.first)
    }

    @Test("a completion answer is a text_completion with text, finish reason, usage and our extras")
    func completionAnswer() throws {
        let json = try object(OpenAIResponses.completion(id: "cmpl-1", created: 1700, request: Self.request(.completion), result: Self.result))
        #expect(json["id"] as? String == "cmpl-1")
        #expect(json["object"] as? String == "text_completion")
        #expect(json["created"] as? Int == 1700)
        #expect(json["model"] as? String == "smol")
        let choice = try firstChoice(json)
        #expect(choice["index"] as? Int == 0)
        #expect(choice["text"] as? String == "Hi \"there\"\nline")
        #expect(choice["finish_reason"] as? String == "length")
        let usage = try #require(json["usage"] as? [String: Any])
        #expect(usage["prompt_tokens"] as? Int == 3)
        #expect(usage["completion_tokens"] as? Int == 5)
        #expect(usage["total_tokens"] as? Int == 8)
        let extras = try #require(json["lambda_llm"] as? [String: Any])
        #expect(extras["deadline_reached"] as? Bool == true)
        let timings = try #require(extras["timings"] as? [String: Any])
        #expect(timings["time_to_first_token_seconds"] as? Double == 0.6)
        #expect(timings["prefill_tokens_per_second"] as? Double == 6)
        #expect(timings["decode_tokens_per_second"] as? Double == 2)
    }

    @Test("a chat answer is a chat.completion with an assistant message")
    func chatAnswer() throws {
        var result = Self.result
        result.finishReason = .stop
        let json = try object(OpenAIResponses.completion(id: "chatcmpl-1", created: 5, request: Self.request(.chat), result: result))
        #expect(json["object"] as? String == "chat.completion")
        let choice = try firstChoice(json)
        #expect(choice["text"] == nil)
        let message = try #require(choice["message"] as? [String: Any])
        #expect(message["role"] as? String == "assistant")
        #expect(message["content"] as? String == Self.result.text)
        #expect(choice["finish_reason"] as? String == "stop")
    }

    @Test("chat chunks: the role first, then content deltas with a null finish reason, then an empty delta that finishes")
    func chatChunks() throws {
        let request = Self.request(.chat)
        let role = try object(OpenAIResponses.roleChunk(id: "c", created: 1, request: request))
        #expect(role["object"] as? String == "chat.completion.chunk")
        let roleChoice = try firstChoice(role)
        let roleDelta = try #require(roleChoice["delta"] as? [String: Any])
        #expect(roleDelta["role"] as? String == "assistant")
        #expect(roleChoice["finish_reason"] is NSNull)
        let flagged = OpenAIResponses.chunk(id: "c", created: 1, request: request, text: nil, finishReason: nil, includeRole: true)
        #expect(flagged == OpenAIResponses.roleChunk(id: "c", created: 1, request: request))

        let piece = try object(OpenAIResponses.chunk(id: "c", created: 1, request: request, text: "Hel", finishReason: nil))
        let pieceChoice = try firstChoice(piece)
        let delta = try #require(pieceChoice["delta"] as? [String: Any])
        #expect(delta["content"] as? String == "Hel")
        #expect(delta["role"] == nil)
        #expect(pieceChoice["finish_reason"] is NSNull)
        #expect(piece["usage"] == nil)
        #expect(piece["lambda_llm"] == nil)

        let last = try object(OpenAIResponses.chunk(id: "c", created: 1, request: request, text: nil, finishReason: .stop, result: Self.result))
        let lastChoice = try firstChoice(last)
        #expect((lastChoice["delta"] as? [String: Any])?.isEmpty == true)
        #expect(lastChoice["finish_reason"] as? String == "stop")
        #expect((last["lambda_llm"] as? [String: Any])?["deadline_reached"] as? Bool == true)
    }

    @Test("completion chunks carry text and are text_completion objects")
    func completionChunks() throws {
        let request = Self.request(.completion)
        let piece = try object(OpenAIResponses.chunk(id: "c", created: 1, request: request, text: "abc", finishReason: nil))
        #expect(piece["object"] as? String == "text_completion")
        let choice = try firstChoice(piece)
        #expect(choice["text"] as? String == "abc")
        #expect(choice["finish_reason"] is NSNull)
        let last = try firstChoice(object(OpenAIResponses.chunk(id: "c", created: 1, request: request, text: nil, finishReason: .length)))
        #expect(last["text"] as? String == "")
        #expect(last["finish_reason"] as? String == "length")
    }

    @Test("with include_usage, chunks say usage null and the usage chunk has no choices")
    func usageChunk() throws {
        let request = Self.request(.chat, includeUsage: true)
        let piece = try object(OpenAIResponses.chunk(id: "c", created: 1, request: request, text: "x", finishReason: nil))
        #expect(piece.keys.contains("usage"))
        #expect(piece["usage"] is NSNull)
        let usage = try object(OpenAIResponses.usageChunk(id: "c", created: 1, request: request, result: Self.result))
        #expect(usage["object"] as? String == "chat.completion.chunk")
        #expect((usage["choices"] as? [Any])?.isEmpty == true)
        let counts = try #require(usage["usage"] as? [String: Any])
        #expect(counts["total_tokens"] as? Int == 8)
    }

    @Test("the model list names the served model")
    func models() throws {
        let json = try object(OpenAIResponses.models(name: "smol", created: 42))
        #expect(json["object"] as? String == "list")
        let data = try #require(json["data"] as? [[String: Any]])
        #expect(data.count == 1)
        #expect(data.first?["id"] as? String == "smol")
        #expect(data.first?["object"] as? String == "model")
        #expect(data.first?["created"] as? Int == 42)
        #expect(data.first?["owned_by"] as? String == "lambda-llm")
    }

    @Test("SSE frames each JSON as one data line and a blank line, and ends with [DONE]")
    func sseFraming() throws {
        let chunk = OpenAIResponses.chunk(id: "c", created: 1, request: Self.request(.chat), text: "a\nb\r\u{2028}c", finishReason: nil)
        let event = String(decoding: ServerSentEvents.event(chunk), as: UTF8.self)
        #expect(event.hasPrefix("data: {"))
        #expect(event.hasSuffix("}\n\n"))
        // The text's own line breaks are escaped, so the event is a single line.
        #expect(event.dropLast(2).allSatisfy { $0 != "\n" && $0 != "\r" && $0 != "\u{2028}" })
        let json = try object(Data(event.dropFirst("data: ".count).dropLast(2).utf8))
        let delta = try firstChoice(json)["delta"] as? [String: Any]
        #expect(delta?["content"] as? String == "a\nb\r\u{2028}c")
        #expect(String(decoding: ServerSentEvents.done, as: UTF8.self) == "data: [DONE]\n\n")
    }

    @Test("control characters and non-ASCII text survive the JSON round trip")
    func escaping() throws {
        var result = Self.result
        result.text = "tab\t bell\u{07} nul\u{0} quote\" slash\\ é 日本 🙂"
        let json = try object(OpenAIResponses.completion(id: "x", created: 0, request: Self.request(.completion), result: result))
        #expect(try firstChoice(json)["text"] as? String == result.text)
    }

    @Test("error bodies are exactly {error: {message, type, param, code}} with nulls written out")
    func errorShape() throws {
        let body = APIError.internalError("boom").json()
        let text = String(decoding: body, as: UTF8.self)
        #expect(text.contains("\"param\":null"))
        let json = try object(body)
        #expect(Set(json.keys) == ["error"])
        let error = try #require(json["error"] as? [String: Any])
        #expect(Set(error.keys) == ["message", "type", "param", "code"])
        #expect(error["type"] as? String == "server_error")
        #expect(error["param"] is NSNull)
        #expect(error["code"] as? String == "internal_error")
        #expect((error["message"] as? String)?.contains("boom") == true)

        let withParam = try object(APIError.invalidField("top_p", "bad").json())["error"] as? [String: Any]
        #expect(withParam?["param"] as? String == "top_p")

        let noCode = APIError(status: 400, message: "m", type: "invalid_request_error")
        let noCodeJSON = try object(noCode.json())["error"] as? [String: Any]
        #expect(noCodeJSON?["code"] is NSNull)
    }

    @Test("the error factories give their documented statuses, types and codes")
    func factories() {
        let cases: [(APIError, Int, String, String?)] = [
            (.invalidJSON("x"), 400, "invalid_request_error", "invalid_json"),
            (.bodyTooLarge(bytes: 2, limit: 1), 413, "invalid_request_error", "body_too_large"),
            (.unknownModel("a", available: "b"), 404, "not_found_error", "model_not_found"),
            (.unauthorized(), 401, "authentication_error", "invalid_api_key"),
            (.notFound(path: "/x"), 404, "not_found_error", "not_found"),
            (.methodNotAllowed("PUT", path: "/v1/models"), 405, "invalid_request_error", "method_not_allowed"),
            (.queueFull(retryAfterSeconds: 3), 429, "rate_limit_error", "queue_full"),
            (.internalError("x"), 500, "server_error", "internal_error"),
            (.contextOverflow(promptTokens: 1, maxTokens: 2, context: 2), 400, "invalid_request_error", "context_length_exceeded"),
        ]
        for (error, status, type, code) in cases {
            #expect(error.status == status, "\(error)")
            #expect(error.type == type, "\(error)")
            #expect(error.code == code, "\(error)")
        }
        #expect(APIError.queueFull(retryAfterSeconds: 3).retryAfterSeconds == 3)
        #expect(APIError.notFound(path: "/nope").message.contains("/nope"))
        #expect(APIError.methodNotAllowed("PUT", path: "/v1/models").message.contains("PUT"))
    }

    @Test("generation errors map to 400s for bad requests and 500 for engine failures")
    func generationErrors() {
        let tooLong = APIError.from(.promptTooLong(tokens: 300, context: 256))
        #expect(tooLong.status == 400)
        #expect(tooLong.code == "context_length_exceeded")
        #expect(tooLong.message.contains("300") && tooLong.message.contains("256"))
        let sampling = APIError.from(.invalidSampling(.topPOutOfRange(2)))
        #expect(sampling.status == 400)
        #expect(sampling.param == "top_p")
        #expect(APIError.from(.emptyPrompt).status == 400)
        #expect(APIError.from(.invalidMaxTokens(0)).param == "max_tokens")
        #expect(APIError.from(.engine(.tokenOutOfRange(id: 5, vocabularySize: 1))).status == 500)
        #expect(APIError.from(APIError.unauthorized() as any Error) == .unauthorized())
        #expect(APIError.from(GenerationError.emptyPrompt as any Error).status == 400)
        #expect(APIError.from(CocoaError(.fileNoSuchFile) as any Error).status == 500)
    }

    @Test("response ids have the prefix and 24 hex digits, and differ")
    func ids() {
        let a = ResponseID.make(prefix: "chatcmpl")
        let b = ResponseID.make(prefix: "chatcmpl")
        #expect(a.hasPrefix("chatcmpl-"))
        let digits = a.dropFirst("chatcmpl-".count)
        #expect(digits.count == 24)
        #expect(digits.allSatisfy { $0.isHexDigit })
        #expect(a != b)
    }
}
