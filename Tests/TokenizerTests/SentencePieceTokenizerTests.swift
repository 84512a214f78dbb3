import Foundation
import ModelFiles
import Testing
import TestSupport
@testable import Tokenizer

@Suite("SentencePiece tokenizer")
struct SentencePieceTokenizerTests {
    let tokenizer: any Tokenizer

    init() throws {
        tokenizer = try TokenizerLoader.load(from: TinyVocabulary.metadata())
    }

    @Test("merges the highest-scoring pair first and prefixes a space to the text")
    func mergesByScore() {
        let ab = TinyVocabulary.id("▁ab")
        #expect(tokenizer.encode("ab ab", addSpecial: false, parseSpecial: false) == [ab, ab])
        #expect(tokenizer.encode("ab ab", addSpecial: true, parseSpecial: false) == [1, ab, ab])
        #expect(tokenizer.encode("", addSpecial: true, parseSpecial: false) == [1])
        #expect(tokenizer.encode("", addSpecial: false, parseSpecial: false) == [])
        #expect(tokenizer.addsBOS && tokenizer.bosToken == 1 && tokenizer.eosToken == 2)
    }

    @Test("characters without a piece fall back to their UTF-8 byte tokens")
    func byteFallback() {
        // "€" is E2 82 AC; byte token <0xXX> has id 3 + XX.
        let euro: [Int32] = [0xE2, 0x82, 0xAC].map { 3 + $0 }
        let expected = [TinyVocabulary.id("▁a")] + euro
        #expect(tokenizer.encode("a€", addSpecial: false, parseSpecial: false) == expected)
        #expect(tokenizer.decode(expected, skipSpecial: true) == "a€")
    }

    @Test("decode drops the prefix space of the first token, which a leading BOS consumes as llama.cpp does")
    func leadingSpace() {
        let ab = TinyVocabulary.id("▁ab")
        #expect(tokenizer.decode([ab, ab], skipSpecial: true) == "ab ab")
        #expect(tokenizer.decode([1, ab, ab], skipSpecial: true) == " ab ab")
        #expect(tokenizer.decode([1, ab, 2], skipSpecial: false) == "<s> ab</s>")
        #expect(tokenizer.tokenBytes(ab) == Array(" ab".utf8))
        #expect(tokenizer.tokenBytes(-1) == [] && tokenizer.tokenBytes(100_000) == [])
    }

    @Test("control tokens in the text are parsed only with parseSpecial; user-defined ones always")
    func specialTokens() {
        let ab = TinyVocabulary.id("▁ab"), user = TinyVocabulary.id("<|user|>")
        #expect(tokenizer.encode("<s>ab", addSpecial: false, parseSpecial: true) == [1, ab])
        #expect(!tokenizer.encode("<s>ab", addSpecial: false, parseSpecial: false).contains(1))
        #expect(tokenizer.encode("<|user|>ab", addSpecial: false, parseSpecial: false) == [user, ab])
        #expect(tokenizer.isEndOfGeneration(2) && !tokenizer.isEndOfGeneration(1))
    }

    @Test("llama.cpp's Llama-2 vocabulary spells emoji with byte tokens and decodes them back",
          .enabled(if: TestAssets.has(TestAssets.vocab("llama-spm"))))
    func realVocabularyBytes() throws {
        let tokenizer = try LoadedTokenizers.vocab("llama-spm")
        #expect(tokenizer.vocabularySize == 32000)
        let ids = tokenizer.encode("Hi 🦙", addSpecial: true, parseSpecial: false)
        #expect(ids.first == 1)
        let leadByteToken: Int32 = 3 + 0xF0
        #expect(ids.contains(leadByteToken))  // <0xF0> starts the 4-byte emoji
        #expect(tokenizer.decode(Array(ids.dropFirst()), skipSpecial: true) == "Hi 🦙")
    }
}

@Suite("Loading tokenizers from GGUF metadata")
struct TokenizerLoaderTests {
    @Test("llama.cpp's vocab-only GGUF files load without tensors", arguments: ["llama-spm", "gpt-2", "llama-bpe"])
    func vocabOnlyFiles(_ name: String) throws {
        guard TestAssets.has(TestAssets.vocab(name)) else { return }
        let file = try GGUFFile(path: TestAssets.vocab(name).path)
        #expect(file.tensors.isEmpty)
        let tokenizer = try TokenizerLoader.load(from: file)
        #expect(!tokenizer.encode("Hello world", addSpecial: false, parseSpecial: false).isEmpty)
    }

    @Test("Llama-3 vocabulary adds BOS and ends generation on <|eot_id|>",
          .enabled(if: TestAssets.has(TestAssets.vocab("llama-bpe"))))
    func llama3Specials() throws {
        let tokenizer = try LoadedTokenizers.vocab("llama-bpe")
        #expect(tokenizer.addsBOS && tokenizer.bosToken == 128000)
        #expect(tokenizer.encode("Hi", addSpecial: true, parseSpecial: false).first == 128000)
        let eot = tokenizer.encode("<|eot_id|>", addSpecial: false, parseSpecial: true)
        #expect(eot == [128009])
        #expect(tokenizer.isEndOfGeneration(128009))
    }

    @Test("array lengths that disagree with the token list are reported with the key")
    func lengthMismatch() throws {
        let short = GGUFValue.array([.float32(0), .float32(1)])
        let count = TinyVocabulary.tokens.count
        #expect(throws: TokenizerError.lengthMismatch(key: "tokenizer.ggml.scores", expected: count, actual: 2)) {
            try TokenizerLoader.load(from: TinyVocabulary.metadata(overriding: ["tokenizer.ggml.scores": short]))
        }
        let types = GGUFValue.array([.int32(1)])
        #expect(throws: TokenizerError.lengthMismatch(key: "tokenizer.ggml.token_type", expected: count, actual: 1)) {
            try TokenizerLoader.load(from: TinyVocabulary.metadata(overriding: ["tokenizer.ggml.token_type": types]))
        }
    }

    @Test("missing or mistyped keys name the key")
    func missingKeys() throws {
        #expect(throws: TokenizerError.missingKey("tokenizer.ggml.tokens")) {
            try TokenizerLoader.load(from: TinyVocabulary.metadata(dropping: ["tokenizer.ggml.tokens"]))
        }
        #expect(throws: TokenizerError.missingKey("tokenizer.ggml.model")) {
            try TokenizerLoader.load(from: TinyVocabulary.metadata(dropping: ["tokenizer.ggml.model"]))
        }
        #expect(throws: TokenizerError.missingKey("tokenizer.ggml.scores")) {
            try TokenizerLoader.load(from: TinyVocabulary.metadata(overriding: ["tokenizer.ggml.scores": .string("x")]))
        }
        #expect(throws: TokenizerError.emptyVocabulary) {
            try TokenizerLoader.load(from: TinyVocabulary.metadata(overriding: ["tokenizer.ggml.tokens": .array([])]))
        }
        #expect(throws: TokenizerError.missingKey("tokenizer.ggml.merges")) {
            try TokenizerLoader.load(from: TinyVocabulary.metadata(model: "gpt2"))
        }
    }

    @Test("unsupported models, pre-tokenizers and malformed merges are typed errors listing what works")
    func unsupported() throws {
        #expect(throws: TokenizerError.unsupportedModel("bert", supported: ["llama", "gpt2"])) {
            try TokenizerLoader.load(from: TinyVocabulary.metadata(model: "bert"))
        }
        let merges = GGUFValue.array([.string("a b")])
        let falcon = try TinyVocabulary.metadata(
            model: "gpt2", overriding: ["tokenizer.ggml.merges": merges, "tokenizer.ggml.pre": .string("falcon")])
        do throws(TokenizerError) {
            _ = try TokenizerLoader.load(from: falcon)
            Issue.record("expected unsupportedPreTokenizer")
        } catch {
            guard case .unsupportedPreTokenizer("falcon", let supported) = error else { Issue.record("\(error)"); return }
            #expect(supported.contains("smollm") && supported.contains("llama-bpe") && supported.contains("gpt-2"))
            #expect(error.description.contains("tokenizer.ggml.pre"))
        }
        #expect(throws: TokenizerError.badMerge(index: 1, line: "ab")) {
            try TokenizerLoader.load(from: TinyVocabulary.metadata(
                model: "gpt2", overriding: ["tokenizer.ggml.merges": .array([.string("a b"), .string("ab")])]))
        }
    }
}
