import Engine
import Foundation
import Generation
import ModelFiles
import Testing
import TestSupport

/// The generation loop on the real SmolLM2 model: stop rules, streaming,
/// cancellation, deadlines and the reused prompt cache.
@Suite(.enabled(if: TestAssets.has(TestAssets.smolLM2)), .serialized)
struct GeneratorTests {
    static let loaded: LoadedModel? = try? LoadedModel(path: TestAssets.smolLM2.path, threads: 2)

    func generator(context: Int = 256) throws -> (LoadedModel, Generator) {
        let loaded = try #require(Self.loaded)
        return (loaded, try loaded.makeGenerator(context: context))
    }

    func greedy(_ tokens: [Int32], max: Int, stop: [String] = []) -> GenerationRequest {
        GenerationRequest(promptTokens: tokens, maxTokens: max, sampling: SamplingParameters(temperature: 0), stopStrings: stop)
    }

    @Test("streamed pieces concatenate to exactly the returned text")
    func streamingMatchesResult() throws {
        let (loaded, gen) = try generator()
        var pieces: [String] = []
        let result = try gen.generate(greedy(loaded.tokens(forPrompt: "The history of Rome"), max: 24)) {
            pieces.append($0)
            return true
        }
        #expect(pieces.joined() == result.text)
        #expect(pieces.count > 1)
        #expect(result.tokens.count == 24)
        #expect(result.finishReason == .length)
    }

    @Test("a loaded model drops the tokenizer's metadata arrays once its tokenizer has read them")
    func loadedModelDropsTokenizerArrays() throws {
        let loaded = try #require(Self.loaded)
        let file = try GGUFFile(path: TestAssets.smolLM2.path)
        let tokens = try #require(file.metadata.strings("tokenizer.ggml.tokens"))
        #expect(loaded.file.metadata["tokenizer.ggml.tokens"] == nil)
        #expect(loaded.file.metadata["tokenizer.ggml.merges"] == nil)
        #expect(loaded.file.metadata.string("general.architecture") == "llama")
        #expect(loaded.file.metadata.string("tokenizer.chat_template") == file.metadata.string("tokenizer.chat_template"))
        #expect(loaded.tokenizer.vocabularySize == tokens.count)
        #expect(loaded.tokens(forPrompt: "Hello world").count >= 2)
    }

    @Test("the same greedy request gives the same tokens with one thread and with two")
    func threadCountDoesNotChangeGreedyOutput() throws {
        let one = try LoadedModel(path: TestAssets.smolLM2.path, threads: 1)
        let (two, gen2) = try generator()
        let prompt = two.tokens(forPrompt: "Once upon a time, in a small village,")
        let a = try one.makeGenerator(context: 128).generate(greedy(prompt, max: 16))
        let b = try gen2.generate(greedy(prompt, max: 16))
        #expect(a.tokens == b.tokens)
    }

    @Test("a stop string ends generation and never appears in the text")
    func stopString() throws {
        let (loaded, gen) = try generator()
        let result = try gen.generate(greedy(loaded.tokens(forPrompt: "1, 2, 3, 4, 5,"), max: 40, stop: [" 9"]))
        #expect(result.finishReason == .stop)
        #expect(!result.text.contains("9"))
        #expect(result.text.contains("8"))
    }

    @Test("the chat template makes SmolLM2 end its answer with an end-of-turn token")
    func chatEndsWithEndOfGeneration() throws {
        let (loaded, gen) = try generator()
        let tokens = loaded.tokens(forChat: [ChatMessage(role: "user", content: "Say hello.")])
        let result = try gen.generate(greedy(tokens, max: 64))
        #expect(result.finishReason == .stop)
        #expect(!result.text.contains("<|im_end|>"))
        #expect(!result.text.isEmpty)
    }

    @Test("ignoring end-of-generation runs to max tokens without ever choosing an end token")
    func ignoringEndOfGenerationMasksEndTokens() throws {
        let (loaded, gen) = try generator()
        let tokens = loaded.tokens(forChat: [ChatMessage(role: "user", content: "Say hello.")])
        var request = greedy(tokens, max: 48)
        request.ignoreEndOfGeneration = true
        let result = try gen.generate(request)
        #expect(result.tokens.count == 48)
        #expect(result.finishReason == .length)
        let endTokens = Set(loaded.tokenizer.endOfGenerationTokens)
        #expect(!endTokens.isEmpty)
        #expect(result.tokens.allSatisfy { !endTokens.contains($0) })
    }

    @Test("returning false from the text callback cancels generation at once")
    func cancellation() throws {
        let (loaded, gen) = try generator()
        var calls = 0
        let result = try gen.generate(greedy(loaded.tokens(forPrompt: "The history of Rome"), max: 64)) { _ in
            calls += 1
            return calls < 3
        }
        #expect(calls == 3)
        #expect(result.tokens.count < 10)
        #expect(result.finishReason == .stop)
    }

    @Test("a deadline already past stops after the first token and says so")
    func deadline() throws {
        let (loaded, gen) = try generator()
        var request = greedy(loaded.tokens(forPrompt: "The history of Rome"), max: 64)
        request.deadline = ContinuousClock.now
        let result = try gen.generate(request)
        #expect(result.deadlineReached)
        #expect(result.finishReason == .length)
        #expect(result.tokens.count == 1)
    }

    @Test("a follow-up prompt reuses the cached prefix and matches a fresh generator")
    func prefixReuse() throws {
        let (loaded, gen) = try generator()
        let first = loaded.tokens(forPrompt: "The history of Rome begins with")
        _ = try gen.generate(greedy(first, max: 4))
        let second = first + loaded.tokenizer.encode(" the founding of the city", addSpecial: false, parseSpecial: false)
        let reused = try gen.generate(greedy(second, max: 12))
        // The cache holds the first prompt and the generated tokens it evaluated,
        // so at most the new text needs evaluating (less if the model had already
        // generated part of it).
        #expect(reused.timings.promptTokensEvaluated >= 1)
        #expect(reused.timings.promptTokensEvaluated <= second.count - first.count)
        let fresh = try loaded.makeGenerator(context: 256).generate(greedy(second, max: 12))
        #expect(fresh.timings.promptTokensEvaluated == second.count)
        #expect(reused.tokens == fresh.tokens)
    }

    @Test("seeded sampling reproduces its tokens and different seeds differ")
    func seededSampling() throws {
        let (loaded, gen) = try generator()
        let prompt = loaded.tokens(forPrompt: "My favourite animal is")
        func run(_ seed: UInt64) throws -> [Int32] {
            var request = greedy(prompt, max: 24)
            request.sampling = SamplingParameters(temperature: 1.0, seed: seed)
            return try gen.generate(request).tokens
        }
        let a = try run(7), b = try run(7), c = try run(8)
        #expect(a == b)
        #expect(a != c)
    }

    @Test("a prompt that fills the context is refused with both sizes in the message")
    func promptTooLong() throws {
        let (loaded, _) = try generator()
        let gen = try loaded.makeGenerator(context: 8)
        let prompt = [Int32](repeating: 28, count: 8)
        do {
            _ = try gen.generate(greedy(prompt, max: 4))
            Issue.record("expected promptTooLong")
        } catch {
            guard case .promptTooLong(8, 8) = error else { Issue.record("unexpected \(error)"); return }
            #expect(error.description.contains("8 tokens"))
        }
    }

    @Test("generation stops with finish reason length when the context fills up")
    func contextFills() throws {
        let (loaded, _) = try generator()
        let gen = try loaded.makeGenerator(context: 12)
        let prompt = loaded.tokens(forPrompt: "The history of Rome")
        let result = try gen.generate(greedy(prompt, max: 100))
        #expect(result.finishReason == .length)
        #expect(prompt.count + result.tokens.count <= 13)
    }
}
