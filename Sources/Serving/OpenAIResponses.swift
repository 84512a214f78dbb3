/// The JSON bodies of answers, in OpenAI's shapes: whole completions, streamed
/// chunks, the usage chunk and the model list. Every answer also carries a
/// `lambda_llm` object (deadline hit, timings) that OpenAI clients ignore.
import Foundation
import Generation

public enum OpenAIResponses {
    /// `text_completion` for a completion request, `chat.completion` for a chat.
    public static func completion(id: String, created: Int, request: ValidatedRequest, result: GenerationResult) -> Data {
        let choice: JSONText
        switch request.kind {
        case .completion:
            choice = .object([
                ("index", .int(0)),
                ("text", .string(result.text)),
                ("logprobs", .null),
                ("finish_reason", .string(result.finishReason.rawValue)),
            ])
        case .chat:
            choice = .object([
                ("index", .int(0)),
                ("message", .object([("role", .string("assistant")), ("content", .string(result.text))])),
                ("logprobs", .null),
                ("finish_reason", .string(result.finishReason.rawValue)),
            ])
        }
        return JSONText.object([
            ("id", .string(id)),
            ("object", .string(request.kind == .chat ? "chat.completion" : "text_completion")),
            ("created", .int(created)),
            ("model", .string(request.model)),
            ("choices", .array([choice])),
            ("usage", usage(request, result)),
            ("lambda_llm", extensions(result)),
        ]).data
    }

    /// The first chunk of a chat stream: OpenAI sends the role once, before any text.
    public static func roleChunk(id: String, created: Int, request: ValidatedRequest) -> Data {
        chunk(id: id, created: created, request: request, text: nil, finishReason: nil, includeRole: true)
    }

    /// One streamed chunk. `text` nil: no content in the delta (OpenAI's closing
    /// chat chunk has an empty delta); `includeRole` for a chat stream's first chunk
    /// (it then carries content "" when `text` is nil). The last chunk has a finish
    /// reason; passing the result on it adds the `lambda_llm` object.
    public static func chunk(
        id: String, created: Int, request: ValidatedRequest, text: String?, finishReason: FinishReason?,
        includeRole: Bool = false, result: GenerationResult? = nil
    ) -> Data {
        var delta: [(String, JSONText)] = []
        if includeRole { delta.append(("role", .string("assistant"))) }
        if let text { delta.append(("content", .string(text))) } else if includeRole { delta.append(("content", .string(""))) }
        return chunk(id: id, created: created, request: request, delta: delta, finishReason: finishReason, result: result)
    }

    /// Sent after the last chunk when the request set `stream_options.include_usage`:
    /// no choices, only usage.
    public static func usageChunk(id: String, created: Int, request: ValidatedRequest, result: GenerationResult) -> Data {
        JSONText.object([
            ("id", .string(id)),
            ("object", .string(chunkObject(request.kind))),
            ("created", .int(created)),
            ("model", .string(request.model)),
            ("choices", .array([])),
            ("usage", usage(request, result)),
            ("lambda_llm", extensions(result)),
        ]).data
    }

    /// A direct Lambda invocation's answer: no HTTP around it and no choices array,
    /// just the text and the figures a caller of `aws lambda invoke` wants to read.
    public static func direct(id: String, created: Int, request: ValidatedRequest, result: GenerationResult) -> Data {
        JSONText.object([
            ("id", .string(id)),
            ("object", .string("lambda_llm.completion")),
            ("created", .int(created)),
            ("model", .string(request.model)),
            ("text", .string(result.text)),
            ("finish_reason", .string(result.finishReason.rawValue)),
            ("deadline_reached", .bool(result.deadlineReached)),
            ("usage", usage(request, result)),
            ("timings", timings(result.timings)),
        ]).data
    }

    /// GET /health
    public static func health(model: String) -> Data {
        JSONText.object([("status", .string("ok")), ("model", .string(model))]).data
    }

    /// GET /v1/models
    public static func models(name: String, created: Int) -> Data {
        JSONText.object([
            ("object", .string("list")),
            ("data", .array([
                .object([
                    ("id", .string(name)),
                    ("object", .string("model")),
                    ("created", .int(created)),
                    ("owned_by", .string("lambda-llm")),
                ]),
            ])),
        ]).data
    }

    private static func chunk(
        id: String, created: Int, request: ValidatedRequest, delta: [(String, JSONText)], finishReason: FinishReason?,
        result: GenerationResult?
    ) -> Data {
        let finish: JSONText = finishReason.map { .string($0.rawValue) } ?? .null
        let choice: JSONText
        switch request.kind {
        case .completion:
            let text = delta.first { $0.0 == "content" }?.1 ?? .string("")
            choice = .object([("index", .int(0)), ("text", text), ("logprobs", .null), ("finish_reason", finish)])
        case .chat:
            choice = .object([("index", .int(0)), ("delta", .object(delta)), ("logprobs", .null), ("finish_reason", finish)])
        }
        var members: [(String, JSONText)] = [
            ("id", .string(id)),
            ("object", .string(chunkObject(request.kind))),
            ("created", .int(created)),
            ("model", .string(request.model)),
            ("choices", .array([choice])),
        ]
        // With include_usage, OpenAI writes "usage": null on every chunk but the usage chunk.
        if request.includeUsageInStream { members.append(("usage", .null)) }
        if let result { members.append(("lambda_llm", extensions(result))) }
        return JSONText.object(members).data
    }

    private static func chunkObject(_ kind: RequestKind) -> String {
        kind == .chat ? "chat.completion.chunk" : "text_completion"
    }

    private static func usage(_ request: ValidatedRequest, _ result: GenerationResult) -> JSONText {
        let prompt = request.promptTokens.count
        let completion = result.tokens.count
        return .object([
            ("prompt_tokens", .int(prompt)),
            ("completion_tokens", .int(completion)),
            ("total_tokens", .int(prompt + completion)),
        ])
    }

    private static func extensions(_ result: GenerationResult) -> JSONText {
        .object([
            ("deadline_reached", .bool(result.deadlineReached)),
            ("timings", timings(result.timings)),
        ])
    }

    private static func timings(_ t: GenerationTimings) -> JSONText {
        .object([
            ("prompt_tokens_evaluated", .int(t.promptTokensEvaluated)),
            ("time_to_first_token_seconds", .double(t.timeToFirstTokenSeconds)),
            ("prefill_tokens_per_second", .double(t.prefillTokensPerSecond)),
            ("decode_tokens_per_second", .double(t.decodeTokensPerSecond)),
            ("total_seconds", .double(t.totalSeconds)),
        ])
    }
}

/// Ids for answers: "cmpl-" or "chatcmpl-" and 96 random bits in hex.
public enum ResponseID {
    public static func make(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let high = UInt32.random(in: .min ... .max, using: &generator)
        let low = UInt64.random(in: .min ... .max, using: &generator)
        return prefix + "-" + hex(UInt64(high), digits: 8) + hex(low, digits: 16)
    }

    private static func hex(_ value: UInt64, digits: Int) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: digits - s.count) + s
    }
}
