import Foundation
import Generation
import Serving
import Testing

/// A stand-in tokenizer: one token per UTF-8 byte, so token counts are easy to
/// reason about and the chat text can be read back from the tokens.
enum ByteTokens {
    static func encode(_ text: String) -> [Int32] { text.utf8.map { Int32($0) } }
    static func decode(_ tokens: [Int32]) -> String { String(decoding: tokens.map { UInt8($0) }, as: UTF8.self) }
    /// "role|content;" for each message.
    static func chat(_ messages: [ChatMessage]) -> [Int32] {
        encode(messages.map { "\($0.role)|\($0.content);" }.joined())
    }

    static func validator(context: Int = 2048, limits: ServingLimits = ServingLimits()) -> RequestValidator {
        RequestValidator(
            modelName: "smol", contextLength: context, limits: limits,
            tokenizePrompt: { encode($0) }, tokenizeChat: { chat($0) }
        )
    }
}

/// One request that validation must refuse, and how.
struct Refusal: Sendable, CustomTestStringConvertible {
    var kind: RequestKind
    var body: String
    var status: Int = 400
    var type: String = "invalid_request_error"
    var code: String? = "invalid_value"
    var param: String?
    var testDescription: String { "\(kind) \(body.prefix(60))" }
}

private let chatOK = #""messages":[{"role":"user","content":"hi"}]"#

private let refusals: [Refusal] = [
    Refusal(kind: .completion, body: "{\"prompt\": ", code: "invalid_json"),
    Refusal(kind: .completion, body: "", code: "invalid_json"),
    Refusal(kind: .completion, body: "[1, 2]", code: "invalid_json"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "model": "gpt-4"}"#, status: 404, type: "not_found_error", code: "model_not_found", param: "model"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "model": 7}"#, param: "model"),
    Refusal(kind: .completion, body: #"{}"#, param: "prompt"),
    Refusal(kind: .completion, body: #"{"prompt": 12}"#, param: "prompt"),
    Refusal(kind: .completion, body: #"{"prompt": ["a", "b"]}"#, param: "prompt"),
    Refusal(kind: .completion, body: #"{"prompt": [[1, 2]]}"#, param: "prompt"),
    Refusal(kind: .completion, body: #"{"prompt": ""}"#, code: "empty_prompt", param: "prompt"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "max_tokens": 0}"#, param: "max_tokens"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "max_tokens": 4097}"#, param: "max_tokens"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "max_tokens": 1.5}"#, param: "max_tokens"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "max_tokens": "10"}"#, param: "max_tokens"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "max_tokens": true}"#, param: "max_tokens"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "temperature": 2.5}"#, param: "temperature"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "temperature": -0.1}"#, param: "temperature"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "temperature": "hot"}"#, param: "temperature"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "top_p": 0}"#, param: "top_p"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "top_p": 1.01}"#, param: "top_p"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "top_k": -1}"#, param: "top_k"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "min_p": 1.5}"#, param: "min_p"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "repetition_penalty": 0}"#, param: "repetition_penalty"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "seed": -1}"#, param: "seed"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "seed": 18446744073709551616}"#, param: "seed"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "seed": 1.5}"#, param: "seed"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "stop": ""}"#, param: "stop"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "stop": ["a", "b", "c", "d", "e"]}"#, param: "stop"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "stop": ["a", 3]}"#, param: "stop[1]"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "stop": ["a", ""]}"#, param: "stop[1]"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "stop": {"x": 1}}"#, param: "stop"),
    Refusal(kind: .completion, body: "{\"prompt\": \"a\", \"stop\": \"\(String(repeating: "é", count: 129))\"}", param: "stop"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "stream": "yes"}"#, param: "stream"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "stream": true, "stream_options": true}"#, param: "stream_options"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "stream": true, "stream_options": {"include_usage": 1}}"#, param: "stream_options.include_usage"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "n": 2}"#, param: "n"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "best_of": 3}"#, param: "best_of"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "echo": true}"#, param: "echo"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "suffix": "end"}"#, param: "suffix"),
    Refusal(kind: .completion, body: #"{"prompt": "a", "logprobs": 2}"#, param: "logprobs"),
    Refusal(kind: .chat, body: #"{"prompt": "a"}"#, param: "messages"),
    Refusal(kind: .chat, body: #"{"messages": []}"#, param: "messages"),
    Refusal(kind: .chat, body: #"{"messages": "hi"}"#, param: "messages"),
    Refusal(kind: .chat, body: #"{"messages": ["hi"]}"#, param: "messages[0]"),
    Refusal(kind: .chat, body: #"{"messages": [{"content": "hi"}]}"#, param: "messages[0].role"),
    Refusal(kind: .chat, body: #"{"messages": [{"role": "wizard", "content": "hi"}]}"#, param: "messages[0].role"),
    Refusal(kind: .chat, body: #"{"messages": [{"role": "user", "content": "a"}, {"role": "user"}]}"#, param: "messages[1].content"),
    Refusal(kind: .chat, body: #"{"messages": [{"role": "user", "content": 5}]}"#, param: "messages[0].content"),
    Refusal(kind: .chat, body: #"{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}"#, param: "messages[0].content[0].type"),
    Refusal(kind: .chat, body: #"{"messages": [{"role": "user", "content": [{"type": "text"}]}]}"#, param: "messages[0].content[0].text"),
    Refusal(kind: .chat, body: #"{"messages": [{"role": "user", "content": ["hi"]}]}"#, param: "messages[0].content[0]"),
    Refusal(kind: .chat, body: "{\(chatOK), \"max_completion_tokens\": 0}", param: "max_completion_tokens"),
    Refusal(kind: .chat, body: "{\(chatOK), \"n\": 2}", param: "n"),
    Refusal(kind: .chat, body: "{\(chatOK), \"logprobs\": true}", param: "logprobs"),
    Refusal(kind: .chat, body: "{\(chatOK), \"tools\": [{\"type\": \"function\"}]}", param: "tools"),
    Refusal(kind: .chat, body: "{\(chatOK), \"response_format\": {\"type\": \"json_object\"}}", param: "response_format"),
    Refusal(kind: .chat, body: "{\(chatOK), \"model\": \"other\"}", status: 404, type: "not_found_error", code: "model_not_found", param: "model"),
]

@Suite("Request validation")
struct RequestValidatorTests {
    let validator = ByteTokens.validator()

    func validate(_ kind: RequestKind, _ body: String, with validator: RequestValidator? = nil) throws(APIError) -> ValidatedRequest {
        let v = validator ?? self.validator
        return kind == .chat ? try v.chat(Data(body.utf8)) : try v.completion(Data(body.utf8))
    }

    func refusal(_ kind: RequestKind, _ body: String, with validator: RequestValidator? = nil) -> APIError? {
        do {
            _ = try validate(kind, body, with: validator)
            return nil
        } catch {
            return error
        }
    }

    @Test("each invalid request is refused with the right status, type, code and param", arguments: refusals)
    func refused(_ case_: Refusal) throws {
        let error = try #require(refusal(case_.kind, case_.body))
        #expect(error.status == case_.status)
        #expect(error.type == case_.type)
        #expect(error.code == case_.code)
        #expect(error.param == case_.param)
        #expect(!error.message.isEmpty)
    }

    @Test("a minimal completion gets the default max_tokens, llama.cpp sampling and no stream")
    func defaults() throws {
        let r = try validate(.completion, #"{"prompt": "hello"}"#)
        #expect(r.kind == .completion)
        #expect(r.model == "smol")
        #expect(r.promptTokens == ByteTokens.encode("hello"))
        #expect(r.generation.promptTokens == r.promptTokens)
        #expect(r.generation.maxTokens == 256)
        #expect(r.generation.sampling == SamplingParameters())
        #expect(r.generation.stopStrings.isEmpty)
        #expect(r.generation.deadline == nil)
        #expect(!r.stream)
        #expect(!r.includeUsageInStream)
    }

    @Test("every field is carried into the generation request")
    func fieldsAreMapped() throws {
        let r = try validate(.completion, """
            {"model": "smol", "prompt": ["hello"], "max_tokens": 12, "temperature": 0, "top_p": 0.5, "top_k": 7,
             "min_p": 0.1, "repetition_penalty": 1.1, "seed": 18446744073709551615, "stop": "\\n",
             "stream": true, "stream_options": {"include_usage": true}, "n": 1, "user": "ignored", "presence_penalty": 0}
            """)
        #expect(r.promptTokens == ByteTokens.encode("hello"))
        #expect(r.generation.maxTokens == 12)
        #expect(r.generation.sampling.temperature == 0)
        #expect(r.generation.sampling.topP == 0.5)
        #expect(r.generation.sampling.topK == 7)
        #expect(r.generation.sampling.minP == Float(0.1))
        #expect(r.generation.sampling.repetitionPenalty == Float(1.1))
        #expect(r.generation.sampling.seed == UInt64.max)
        #expect(r.generation.stopStrings == ["\n"])
        #expect(r.stream)
        #expect(r.includeUsageInStream)
    }

    @Test("null fields read as absent, as SDKs send them")
    func nullsAreAbsent() throws {
        let r = try validate(.completion, #"{"prompt": "a", "max_tokens": null, "stop": null, "seed": null, "n": null, "stream": null, "logprobs": null}"#)
        #expect(r.generation.maxTokens == 256)
        #expect(r.generation.stopStrings.isEmpty)
        #expect(r.generation.sampling.seed == nil)
        #expect(!r.stream)
    }

    @Test("stop takes one string or an array of up to four")
    func stopForms() throws {
        let one = try validate(.completion, #"{"prompt": "a", "stop": "END"}"#)
        #expect(one.generation.stopStrings == ["END"])
        let four = try validate(.completion, #"{"prompt": "a", "stop": ["a", "bb", "\u00e9", "d"]}"#)
        #expect(four.generation.stopStrings == ["a", "bb", "é", "d"])
        let none = try validate(.completion, #"{"prompt": "a", "stop": []}"#)
        #expect(none.generation.stopStrings.isEmpty)
    }

    @Test("include_usage only counts when streaming")
    func usageOnlyWhenStreaming() throws {
        let r = try validate(.completion, #"{"prompt": "a", "stream": false, "stream_options": {"include_usage": true}}"#)
        #expect(!r.includeUsageInStream)
    }

    @Test("a body over the limit is refused by size before it is parsed")
    func bodySizeFirst() throws {
        var limits = ServingLimits()
        limits.maxBodyBytes = 16
        let small = ByteTokens.validator(limits: limits)
        // Not JSON at all: a parse would say 400; the size check must answer first.
        let error = try #require(refusal(.completion, "this is not json and is too long", with: small))
        #expect(error.status == 413)
        #expect(error.code == "body_too_large")
        #expect(error.message.contains("32"))
        #expect(error.message.contains("16"))
        // At the limit exactly, the body is parsed.
        #expect(refusal(.completion, #"{"prompt": "ab"}"#, with: small) == nil)
    }

    @Test("invalid JSON is reported with the parser's reason")
    func invalidJSONReason() throws {
        let error = try #require(refusal(.completion, "{\"prompt\": tru}"))
        #expect(error.code == "invalid_json")
        #expect(error.param == nil)
        #expect(error.message.count > "The request body is not a valid JSON object: ".count + 5)
    }

    @Test("prompt plus max_tokens over the context is refused with all three numbers")
    func contextOverflow() throws {
        let small = ByteTokens.validator(context: 2048)
        let prompt = String(repeating: "x", count: 30)
        let error = try #require(refusal(.completion, "{\"prompt\": \"\(prompt)\", \"max_tokens\": 4000}", with: small))
        #expect(error.status == 400)
        #expect(error.code == "context_length_exceeded")
        #expect(error.message.contains("2048"))
        #expect(error.message.contains("30 tokens"))
        #expect(error.message.contains("4000"))
        #expect(error.message.contains("30 + 4000 > 2048"))
        // Exactly filling the context is allowed.
        let fits = try validate(.completion, "{\"prompt\": \"\(prompt)\", \"max_tokens\": 2018}", with: small)
        #expect(fits.generation.maxTokens == 2018)
    }

    @Test("without max_tokens a long prompt gets what the context has left")
    func defaultShrinksToContext() throws {
        let small = ByteTokens.validator(context: 100)
        let r = try validate(.completion, "{\"prompt\": \"\(String(repeating: "x", count: 90))\"}", with: small)
        #expect(r.generation.maxTokens == 10)
        let full = try #require(refusal(.completion, "{\"prompt\": \"\(String(repeating: "x", count: 100))\"}", with: small))
        #expect(full.code == "context_length_exceeded")
        #expect(full.param == "prompt")
        #expect(full.message.contains("100"))
    }

    @Test("chat content may be a string or text parts, and the developer role is the system role")
    func chatContentForms() throws {
        let r = try validate(.chat, """
            {"messages": [
              {"role": "developer", "content": "be brief"},
              {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}], "name": "bob"},
              {"role": "assistant", "content": null, "tool_calls": []},
              {"role": "tool", "content": "42", "tool_call_id": "x"}
            ], "max_completion_tokens": 9, "max_tokens": 100}
            """)
        #expect(r.kind == .chat)
        #expect(ByteTokens.decode(r.promptTokens) == "system|be brief;user|one\ntwo;assistant|;tool|42;")
        // The newer field wins over the deprecated one.
        #expect(r.generation.maxTokens == 9)
    }

    @Test("chat accepts max_tokens alone and refuses too many messages")
    func chatLimits() throws {
        let r = try validate(.chat, "{\(chatOK), \"max_tokens\": 5}")
        #expect(r.generation.maxTokens == 5)
        var limits = ServingLimits()
        limits.maxMessages = 2
        let few = ByteTokens.validator(limits: limits)
        let three = #"{"messages": [{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]}"#
        let error = try #require(refusal(.chat, three, with: few))
        #expect(error.param == "messages")
        #expect(error.message.contains("2"))
    }

    @Test("model may be omitted or name the served model")
    func modelField() throws {
        #expect(refusal(.completion, #"{"prompt": "a"}"#) == nil)
        #expect(refusal(.completion, #"{"prompt": "a", "model": "smol"}"#) == nil)
        let error = try #require(refusal(.completion, #"{"prompt": "a", "model": "gpt-4o"}"#))
        #expect(error.message.contains("gpt-4o"))
        #expect(error.message.contains("smol"))
    }

    @Test("temperature 0 is accepted and means greedy")
    func greedy() throws {
        let r = try validate(.completion, #"{"prompt": "a", "temperature": 0}"#)
        #expect(r.generation.sampling.temperature == 0)
    }
}

@Suite("OpenAI routes")
struct OpenAIRouteTests {
    @Test("each route matches its method and path, with or without a trailing slash")
    func matches() throws {
        #expect(try OpenAIRoute.match(method: "POST", path: "/v1/completions") == .completions)
        #expect(try OpenAIRoute.match(method: "post", path: "/v1/chat/completions/") == .chatCompletions)
        #expect(try OpenAIRoute.match(method: "GET", path: "/v1/models") == .models)
        #expect(try OpenAIRoute.match(method: "HEAD", path: "/health") == .health)
    }

    @Test("an unknown path is a 404 and a wrong method a 405, naming them")
    func refusals() {
        do {
            _ = try OpenAIRoute.match(method: "POST", path: "/v2/everything")
            Issue.record("matched")
        } catch {
            #expect(error.status == 404)
            #expect(error.message.contains("/v2/everything"))
        }
        do {
            _ = try OpenAIRoute.match(method: "GET", path: "/v1/completions")
            Issue.record("matched")
        } catch {
            #expect(error.status == 405)
        }
    }
}
