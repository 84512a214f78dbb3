/// Every way a request can fail, as the HTTP status and OpenAI error object a
/// client expects: `{"error": {"message", "type", "param", "code"}}`, nulls
/// written out, so OpenAI SDKs raise their usual exception types.
import Foundation
import Generation

public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var message: String
    /// invalid_request_error | authentication_error | not_found_error | rate_limit_error | server_error
    public var type: String
    /// The request field at fault, as a JSON path (`messages[2].content`).
    public var param: String?
    public var code: String?
    /// For 429: what the `Retry-After` header should say.
    public var retryAfterSeconds: Int?

    public init(
        status: Int, message: String, type: String, param: String? = nil, code: String? = nil,
        retryAfterSeconds: Int? = nil
    ) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String {
        "\(status) \(type)\(code.map { " (\($0))" } ?? ""): \(message)"
    }

    /// The response body.
    public func json() -> Data {
        JSONText.object([
            ("error", .object([
                ("message", .string(message)),
                ("type", .string(type)),
                ("param", param.map(JSONText.string) ?? .null),
                ("code", code.map(JSONText.string) ?? .null),
            ])),
        ]).data
    }

    public static func invalidJSON(_ detail: String) -> APIError {
        APIError(
            status: 400, message: "The request body is not a valid JSON object: \(detail)",
            type: "invalid_request_error", code: "invalid_json"
        )
    }

    public static func invalidField(_ param: String, _ message: String) -> APIError {
        APIError(status: 400, message: message, type: "invalid_request_error", param: param, code: "invalid_value")
    }

    public static func contextOverflow(promptTokens: Int, maxTokens: Int, context: Int) -> APIError {
        APIError(
            status: 400,
            message: "This model's maximum context length is \(context) tokens; the prompt has \(promptTokens) "
                + "tokens and max_tokens asks for \(maxTokens) (\(promptTokens) + \(maxTokens) > \(context)). "
                + "Shorten the prompt or lower max_tokens.",
            type: "invalid_request_error", param: "max_tokens", code: "context_length_exceeded"
        )
    }

    /// The prompt alone leaves no room for even one generated token.
    public static func promptFillsContext(promptTokens: Int, context: Int, param: String) -> APIError {
        APIError(
            status: 400,
            message: "This model's maximum context length is \(context) tokens; the prompt has \(promptTokens) "
                + "tokens, leaving no room for an answer. Shorten the prompt.",
            type: "invalid_request_error", param: param, code: "context_length_exceeded"
        )
    }

    public static func emptyPrompt(param: String) -> APIError {
        APIError(
            status: 400, message: "The prompt is empty: it gives the model no tokens to continue from.",
            type: "invalid_request_error", param: param, code: "empty_prompt"
        )
    }

    public static func bodyTooLarge(bytes: Int, limit: Int) -> APIError {
        APIError(
            status: 413, message: "The request body has \(bytes) bytes; the limit is \(limit).",
            type: "invalid_request_error", code: "body_too_large"
        )
    }

    public static func unknownModel(_ name: String, available: String) -> APIError {
        APIError(
            status: 404,
            message: "The model '\(name)' does not exist here; this server serves '\(available)'.",
            type: "not_found_error", param: "model", code: "model_not_found"
        )
    }

    public static func unauthorized() -> APIError {
        APIError(
            status: 401,
            message: "Missing or incorrect API key: send it as 'Authorization: Bearer <key>'.",
            type: "authentication_error", code: "invalid_api_key"
        )
    }

    public static func notFound(path: String) -> APIError {
        APIError(
            status: 404,
            message: "No route for '\(path)'. Known routes: GET /v1/models, POST /v1/completions, POST /v1/chat/completions.",
            type: "not_found_error", code: "not_found"
        )
    }

    public static func methodNotAllowed(_ method: String, path: String) -> APIError {
        APIError(
            status: 405, message: "\(method) is not allowed on '\(path)'.",
            type: "invalid_request_error", code: "method_not_allowed"
        )
    }

    public static func queueFull(retryAfterSeconds: Int) -> APIError {
        APIError(
            status: 429,
            message: "The server is busy with other requests; retry in \(retryAfterSeconds) seconds.",
            type: "rate_limit_error", code: "queue_full", retryAfterSeconds: retryAfterSeconds
        )
    }

    public static func internalError(_ detail: String) -> APIError {
        APIError(status: 500, message: "Internal error: \(detail)", type: "server_error", code: "internal_error")
    }

    /// Any error met while answering: API errors pass through, generation errors
    /// are mapped, anything else is a 500 naming it.
    public static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: error
        case let error as GenerationError: from(error)
        default: internalError("\(error)")
        }
    }

    /// Errors the generator raises after validation passed. Validation catches the
    /// first three first; they can still happen when a caller builds its own request.
    public static func from(_ error: GenerationError) -> APIError {
        switch error {
        case .emptyPrompt:
            return .emptyPrompt(param: "prompt")
        case .invalidMaxTokens:
            return .invalidField("max_tokens", "\(error)")
        case .promptTooLong(let tokens, let context):
            return .promptFillsContext(promptTokens: tokens, context: context, param: "prompt")
        case .invalidSampling(let sampling):
            return .invalidField(sampling.param, "\(sampling)")
        case .engine:
            return .internalError("\(error)")
        }
    }
}

extension SamplingError {
    /// The request field each sampling error is about.
    var param: String {
        switch self {
        case .temperatureOutOfRange: "temperature"
        case .topKNegative: "top_k"
        case .topPOutOfRange: "top_p"
        case .minPOutOfRange: "min_p"
        case .repetitionPenaltyOutOfRange: "repetition_penalty"
        case .repetitionWindowOutOfRange: "repetition_penalty"
        }
    }
}
