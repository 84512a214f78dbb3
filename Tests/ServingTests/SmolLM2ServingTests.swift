import Foundation
import Generation
import Serving
import Testing
import TestSupport

/// The request layer on the real SmolLM2 model: the validator tokenizes as the
/// model does, and a generated answer encodes into the OpenAI shape.
@Suite(.enabled(if: TestAssets.has(TestAssets.smolLM2)), .serialized)
struct SmolLM2ServingTests {
    static let loaded: LoadedModel? = try? LoadedModel(path: TestAssets.smolLM2.path, threads: 2)

    func validator(context: Int = 256) throws -> (LoadedModel, RequestValidator) {
        let loaded = try #require(Self.loaded)
        return (loaded, RequestValidator(model: loaded, modelName: "smollm2", contextLength: context))
    }

    @Test("completion prompts are tokenized as the model tokenizes raw prompts")
    func completionTokens() throws {
        let (loaded, validator) = try validator()
        let r = try validator.completion(Data(#"{"prompt": "The history of Rome"}"#.utf8))
        #expect(r.promptTokens == loaded.tokens(forPrompt: "The history of Rome"))
        #expect(r.generation.promptTokens == r.promptTokens)
    }

    @Test("chat messages are rendered with the model's chat template")
    func chatTokens() throws {
        let (loaded, validator) = try validator()
        let body = #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Say hello."}]}]}"#
        let r = try validator.chat(Data(body.utf8))
        #expect(r.promptTokens == loaded.tokens(forChat: [.system("Be brief."), .user("Say hello.")]))
    }

    @Test("the context check counts the model's own tokens")
    func contextCountsRealTokens() throws {
        let (loaded, validator) = try validator(context: 64)
        let prompt = "The history of Rome"
        let count = loaded.tokens(forPrompt: prompt).count
        let body = "{\"prompt\": \"\(prompt)\", \"max_tokens\": \(64 - count + 1)}"
        do {
            _ = try validator.completion(Data(body.utf8))
            Issue.record("expected a context overflow")
        } catch {
            #expect(error.code == "context_length_exceeded")
            #expect(error.message.contains("\(count) tokens"))
            #expect(error.message.contains("\(count) + \(64 - count + 1) > 64"))
        }
    }

    @Test("a validated chat request generates and encodes into a chat.completion")
    func endToEnd() throws {
        let (loaded, validator) = try validator()
        let body = #"{"model": "smollm2", "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 8, "temperature": 0}"#
        let request = try validator.chat(Data(body.utf8))
        let generator = try loaded.makeGenerator(context: validator.contextLength)
        let result = try generator.generate(request.generation)
        let data = OpenAIResponses.completion(id: ResponseID.make(prefix: "chatcmpl"), created: 0, request: request, result: result)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let choice = try #require((json["choices"] as? [[String: Any]])?.first)
        #expect((choice["message"] as? [String: Any])?["content"] as? String == result.text)
        #expect(!result.text.isEmpty)
        let usage = try #require(json["usage"] as? [String: Any])
        #expect(usage["prompt_tokens"] as? Int == request.promptTokens.count)
        #expect(usage["completion_tokens"] as? Int == result.tokens.count)
    }
}
