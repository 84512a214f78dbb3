/// Turns an OpenAI `/v1/completions` or `/v1/chat/completions` body into a request
/// the generator can run, or into the 4xx error that says exactly which field is
/// wrong. Cheap checks (size, JSON, fields) run before the prompt is tokenized.
import Foundation
import Generation

public enum RequestKind: Sendable, Equatable { case completion, chat }

/// A request that passed validation: ready for the Generator.
public struct ValidatedRequest: Sendable {
    public var kind: RequestKind
    /// The served model's name, echoed in answers.
    public var model: String
    public var promptTokens: [Int32]
    /// Prompt tokens, max tokens, sampling and stop strings. The deadline is left
    /// nil: each front door knows its own time budget.
    public var generation: GenerationRequest
    public var stream: Bool
    /// `stream_options.include_usage`, only ever true when streaming.
    public var includeUsageInStream: Bool

    public init(
        kind: RequestKind, model: String, promptTokens: [Int32], generation: GenerationRequest,
        stream: Bool = false, includeUsageInStream: Bool = false
    ) {
        self.kind = kind
        self.model = model
        self.promptTokens = promptTokens
        self.generation = generation
        self.stream = stream
        self.includeUsageInStream = includeUsageInStream
    }
}

/// Parses and validates OpenAI JSON bodies against the served model and limits.
///
/// Sendable: `LoadedModel` is an immutable `@unchecked Sendable` class whose
/// tokenizer is safe to share, so one validator serves concurrent requests.
///
/// Sampling fields a request leaves out take `SamplingParameters`' defaults
/// (llama.cpp's, as llama.cpp's server does), not OpenAI's temperature 1 / top_p 1.
/// Besides OpenAI's fields, `top_k`, `min_p` and `repetition_penalty` are read, as
/// llama.cpp and vLLM servers do. Fields with no effect here (`user`,
/// `frequency_penalty`, ...) are ignored; fields asking for something this server
/// cannot give (`n` > 1, logprobs, tools, JSON mode) are refused by name.
public struct RequestValidator: Sendable {
    public let modelName: String
    /// Tokens the generator's session holds: prompt plus answer must fit.
    public let contextLength: Int
    public let limits: ServingLimits
    private let tokenizePrompt: @Sendable (String) -> [Int32]
    private let tokenizeChat: @Sendable ([ChatMessage]) -> [Int32]

    public init(model: LoadedModel, modelName: String, contextLength: Int, limits: ServingLimits = ServingLimits()) {
        self.init(
            modelName: modelName, contextLength: contextLength, limits: limits,
            tokenizePrompt: { model.tokens(forPrompt: $0) },
            tokenizeChat: { model.tokens(forChat: $0) }
        )
    }

    /// For callers (and tests) that tokenize some other way.
    public init(
        modelName: String, contextLength: Int, limits: ServingLimits = ServingLimits(),
        tokenizePrompt: @escaping @Sendable (String) -> [Int32],
        tokenizeChat: @escaping @Sendable ([ChatMessage]) -> [Int32]
    ) {
        self.modelName = modelName
        self.contextLength = contextLength
        self.limits = limits
        self.tokenizePrompt = tokenizePrompt
        self.tokenizeChat = tokenizeChat
    }

    /// POST /v1/completions
    public func completion(_ body: Data) throws(APIError) -> ValidatedRequest {
        let fields = try parse(body)
        try refuseUnsupported(fields, kind: .completion)
        let options = try readOptions(fields, kind: .completion)
        let prompt = try readPrompt(fields)
        return try finish(kind: .completion, options: options, tokens: tokenizePrompt(prompt), promptParam: "prompt")
    }

    /// POST /v1/chat/completions
    public func chat(_ body: Data) throws(APIError) -> ValidatedRequest {
        let fields = try parse(body)
        try refuseUnsupported(fields, kind: .chat)
        let options = try readOptions(fields, kind: .chat)
        let messages = try readMessages(fields)
        return try finish(kind: .chat, options: options, tokens: tokenizeChat(messages), promptParam: "messages")
    }

    // MARK: - Steps

    /// Everything but the prompt, read before tokenizing.
    private struct Options {
        var maxTokens: Int?
        var maxTokensParam: String
        var sampling: SamplingParameters
        var stopStrings: [String]
        var stream: Bool
        var includeUsage: Bool
    }

    private func parse(_ body: Data) throws(APIError) -> Fields {
        // Before parsing: a huge body must cost no more than its length check.
        guard body.count <= limits.maxBodyBytes else {
            throw .bodyTooLarge(bytes: body.count, limit: limits.maxBodyBytes)
        }
        guard case .object(let object) = try JSONValue.parse(body) else {
            throw .invalidJSON("expected a JSON object at the top level")
        }
        let fields = Fields(object)
        if let model = try fields.string("model"), model != modelName {
            throw .unknownModel(model, available: modelName)
        }
        return fields
    }

    private func refuseUnsupported(_ fields: Fields, kind: RequestKind) throws(APIError) {
        if let n = try fields.integer("n"), n != 1 {
            throw .invalidField("n", "n must be 1: this server generates one choice per request (got \(n)).")
        }
        if kind == .completion {
            if let bestOf = try fields.integer("best_of"), bestOf != 1 {
                throw .invalidField("best_of", "best_of must be 1: this server generates one choice per request (got \(bestOf)).")
            }
            if try fields.bool("echo") == true {
                throw .invalidField("echo", "echo is not supported: the answer never repeats the prompt.")
            }
            if let suffix = try fields.string("suffix"), !suffix.isEmpty {
                throw .invalidField("suffix", "suffix (fill-in-the-middle) is not supported.")
            }
        }
        // Completions take an integer, chat a boolean; both mean "send log probabilities".
        if let logprobs = fields["logprobs"], logprobs != .bool(false) {
            throw .invalidField("logprobs", "logprobs are not supported.")
        }
        if kind == .chat {
            if let tools = fields["tools"], tools != .array([]) {
                throw .invalidField("tools", "tools (function calling) are not supported.")
            }
            if let format = fields["response_format"] {
                guard case .object(let object) = format, object["type"] == .string("text") else {
                    throw .invalidField(
                        "response_format", "Only response_format {\"type\": \"text\"} is supported: no JSON mode or schemas."
                    )
                }
            }
        }
    }

    private func readOptions(_ fields: Fields, kind: RequestKind) throws(APIError) -> Options {
        // Chat's newer name wins when a client sends both.
        let maxParam = kind == .chat && fields["max_completion_tokens"] != nil ? "max_completion_tokens" : "max_tokens"
        let maxTokens = try fields.integer(maxParam)
        if let maxTokens, !(1...limits.maxTokensCap).contains(maxTokens) {
            throw .invalidField(
                maxParam, "\(maxParam) must be an integer from 1 to \(limits.maxTokensCap), got \(maxTokens)."
            )
        }

        var sampling = SamplingParameters()
        if let t = try fields.number("temperature") {
            guard t >= 0 && t <= ServingLimits.maxTemperature else {
                throw .invalidField(
                    "temperature", "temperature must be from 0 to \(Int(ServingLimits.maxTemperature)) (0 = greedy), got \(t)."
                )
            }
            sampling.temperature = Float(t)
        }
        if let p = try fields.number("top_p") {
            guard p > 0 && p <= 1 else {
                throw .invalidField("top_p", "top_p must be greater than 0 and at most 1 (1 = no filter), got \(p).")
            }
            sampling.topP = Float(p)
        }
        if let k = try fields.integer("top_k") {
            guard k >= 0 else { throw .invalidField("top_k", "top_k must be 0 (no filter) or positive, got \(k).") }
            sampling.topK = k
        }
        if let p = try fields.number("min_p") {
            guard p >= 0 && p <= 1 else {
                throw .invalidField("min_p", "min_p must be from 0 (no filter) to 1, got \(p).")
            }
            sampling.minP = Float(p)
        }
        if let r = try fields.number("repetition_penalty") {
            guard r > 0 && Float(r).isFinite else {
                throw .invalidField("repetition_penalty", "repetition_penalty must be greater than 0 (1 = none), got \(r).")
            }
            sampling.repetitionPenalty = Float(r)
        }
        sampling.seed = try fields.seed("seed")
        // The field checks above mirror the sampler's own; this catches any drift.
        do { try sampling.validate() } catch { throw .invalidField(error.param, "\(error)") }

        let stream = try fields.bool("stream") ?? false
        var includeUsage = false
        if let options = fields["stream_options"] {
            guard case .object(let object) = options else {
                throw .invalidField("stream_options", "stream_options must be an object, got \(options.typeName).")
            }
            includeUsage = try Fields(object, prefix: "stream_options.").bool("include_usage") ?? false
        }
        return Options(
            maxTokens: maxTokens, maxTokensParam: maxParam, sampling: sampling,
            stopStrings: try readStop(fields), stream: stream, includeUsage: stream && includeUsage
        )
    }

    private func readStop(_ fields: Fields) throws(APIError) -> [String] {
        let stops: [(String, String)]
        switch fields["stop"] {
        case nil: return []
        case .string(let s)?: stops = [("stop", s)]
        case .array(let items)?:
            guard items.count <= limits.maxStopStrings else {
                throw .invalidField("stop", "stop takes at most \(limits.maxStopStrings) strings, got \(items.count).")
            }
            var strings: [(String, String)] = []
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item else {
                    throw .invalidField("stop[\(i)]", "stop[\(i)] must be a string, got \(item.typeName).")
                }
                strings.append(("stop[\(i)]", s))
            }
            stops = strings
        case let other?:
            throw .invalidField("stop", "stop must be a string or an array of strings, got \(other.typeName).")
        }
        for (param, s) in stops {
            guard !s.isEmpty else { throw .invalidField(param, "\(param) must not be empty.") }
            guard s.utf8.count <= limits.maxStopStringBytes else {
                throw .invalidField(
                    param, "\(param) is \(s.utf8.count) bytes long; the limit is \(limits.maxStopStringBytes)."
                )
            }
        }
        return stops.map(\.1)
    }

    private func readPrompt(_ fields: Fields) throws(APIError) -> String {
        switch fields["prompt"] {
        case .string(let s)?: return s
        case .array(let items)? where items.count == 1:
            if case .string(let s) = items[0] { return s }
            fallthrough
        case .some:
            throw .invalidField(
                "prompt", "prompt must be a string (or an array holding exactly one string); token arrays and batches are not supported."
            )
        case nil:
            throw .invalidField("prompt", "prompt is required.")
        }
    }

    private static let roles: Set = ["system", "user", "assistant", "tool"]

    private func readMessages(_ fields: Fields) throws(APIError) -> [ChatMessage] {
        guard let value = fields["messages"] else { throw .invalidField("messages", "messages is required.") }
        guard case .array(let items) = value, !items.isEmpty else {
            throw .invalidField("messages", "messages must be a non-empty array of {role, content} objects.")
        }
        guard items.count <= limits.maxMessages else {
            throw .invalidField("messages", "messages holds \(items.count) messages; the limit is \(limits.maxMessages).")
        }
        var messages: [ChatMessage] = []
        messages.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            let path = "messages[\(i)]"
            guard case .object(let object) = item else {
                throw .invalidField(path, "\(path) must be an object with role and content, got \(item.typeName).")
            }
            let message = Fields(object, prefix: path + ".")
            guard var role = try message.string("role") else {
                throw .invalidField(path + ".role", "\(path).role is required.")
            }
            // OpenAI's newer name for the system role; templates only know "system".
            if role == "developer" { role = "system" }
            guard Self.roles.contains(role) else {
                throw .invalidField(
                    path + ".role", "\(path).role must be one of system, user, assistant, tool; got '\(role)'."
                )
            }
            messages.append(ChatMessage(role: role, content: try readContent(message["content"], role: role, path: path)))
        }
        return messages
    }

    /// A string, or text parts joined by newlines (as vLLM joins them). An assistant
    /// turn that only called tools has null content, read as empty.
    private func readContent(_ value: JSONValue?, role: String, path: String) throws(APIError) -> String {
        let param = path + ".content"
        switch value {
        case .string(let s)?: return s
        case nil where role == "assistant": return ""
        case nil: throw .invalidField(param, "\(param) is required.")
        case .array(let parts)?:
            var texts: [String] = []
            for (j, part) in parts.enumerated() {
                let partPath = "\(param)[\(j)]"
                guard case .object(let object) = part else {
                    throw .invalidField(partPath, "\(partPath) must be an object {type: \"text\", text}, got \(part.typeName).")
                }
                let fields = Fields(object, prefix: partPath + ".")
                guard let type = try fields.string("type"), type == "text" else {
                    throw .invalidField(partPath + ".type", "\(partPath).type must be \"text\": only text content is supported.")
                }
                guard let text = try fields.string("text") else {
                    throw .invalidField(partPath + ".text", "\(partPath).text is required.")
                }
                texts.append(text)
            }
            return texts.joined(separator: "\n")
        case let other?:
            throw .invalidField(param, "\(param) must be a string or an array of text parts, got \(other.typeName).")
        }
    }

    private func finish(kind: RequestKind, options: Options, tokens: [Int32], promptParam: String) throws(APIError) -> ValidatedRequest {
        guard !tokens.isEmpty else { throw .emptyPrompt(param: promptParam) }
        let room = contextLength - tokens.count
        let maxTokens: Int
        if let asked = options.maxTokens {
            guard asked <= room else {
                throw .contextOverflow(promptTokens: tokens.count, maxTokens: asked, context: contextLength)
            }
            maxTokens = asked
        } else {
            // Without an explicit ask, a long prompt gets what the context has left
            // rather than an error about a number the client never sent.
            guard room >= 1 else {
                throw .promptFillsContext(promptTokens: tokens.count, context: contextLength, param: promptParam)
            }
            maxTokens = min(limits.defaultMaxTokens, room)
        }
        return ValidatedRequest(
            kind: kind, model: modelName, promptTokens: tokens,
            generation: GenerationRequest(
                promptTokens: tokens, maxTokens: maxTokens, sampling: options.sampling, stopStrings: options.stopStrings
            ),
            stream: options.stream, includeUsageInStream: options.includeUsage
        )
    }
}

/// Typed reads of one JSON object's fields; a null field reads as absent (SDKs
/// send `"stop": null` for "not set"), a field of the wrong type is a 400 naming it.
private struct Fields {
    let object: [String: JSONValue]
    /// Path of this object inside the body, for error params ("messages[0].").
    let prefix: String

    init(_ object: [String: JSONValue], prefix: String = "") {
        self.object = object
        self.prefix = prefix
    }

    subscript(key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func string(_ key: String) throws(APIError) -> String? {
        switch self[key] {
        case nil: return nil
        case .string(let s)?: return s
        case let other?: throw wrongType(key, "a string", other)
        }
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        switch self[key] {
        case nil: return nil
        case .bool(let b)?: return b
        case let other?: throw wrongType(key, "a boolean", other)
        }
    }

    func integer(_ key: String) throws(APIError) -> Int? {
        switch self[key] {
        case nil: return nil
        case .integer(let v)?: return Int(v)
        case .unsigned?: throw .invalidField(prefix + key, "\(prefix + key) is too large.")
        case let other?: throw wrongType(key, "an integer", other)
        }
    }

    func number(_ key: String) throws(APIError) -> Double? {
        switch self[key] {
        case nil: return nil
        case .integer(let v)?: return Double(v)
        case .unsigned(let v)?: return Double(v)
        case .number(let v)?: return v
        case let other?: throw wrongType(key, "a number", other)
        }
    }

    func seed(_ key: String) throws(APIError) -> UInt64? {
        let param = prefix + key
        switch self[key] {
        case nil: return nil
        case .unsigned(let v)?: return v
        case .integer(let v)?:
            guard v >= 0 else { throw .invalidField(param, "\(param) must be an integer from 0 to \(UInt64.max), got \(v).") }
            return UInt64(v)
        case let other?: throw wrongType(key, "an integer from 0 to \(UInt64.max)", other)
        }
    }

    private func wrongType(_ key: String, _ expected: String, _ got: JSONValue) -> APIError {
        .invalidField(prefix + key, "\(prefix + key) must be \(expected), got \(got.typeName).")
    }
}
