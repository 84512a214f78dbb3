import Foundation
import Testing
import ModelFiles
import TestSupport
import Tokenizer
@testable import Convert

@Suite("HFTokenizerImport")
struct HFTokenizerImportTests {
    private func configuration(vocabSize: Int, architecture: String = "LlamaForCausalLM") throws -> HFConfiguration {
        let config = ConvertFixtures.llamaConfig(["vocab_size": vocabSize, "architectures": [architecture]],
                                                 removing: ["bos_token_id", "eos_token_id"])
        return try HFConfiguration.decode(try JSONSerialization.data(withJSONObject: config))
    }

    // MARK: SentencePiece

    @Test("imports a SentencePiece tokenizer.model into llama-model metadata", .enabled(if: TestAssets.has(TestAssets.mistralSentencePiece)))
    func sentencePieceMetadata() throws {
        let model = try [UInt8](Data(contentsOf: TestAssets.mistralSentencePiece))
        let directory = try ConvertFixtures.directory(["tokenizer.model": model])
        let entries = try HFTokenizerImport.metadata(directory: directory, configuration: configuration(vocabSize: 32000))
        let metadata = try GGUFMetadata(entries.map { (key: $0.0, value: $0.1) })
        #expect(metadata.string("tokenizer.ggml.model") == "llama")
        #expect(metadata.strings("tokenizer.ggml.tokens")?.count == 32000)
        #expect(metadata.strings("tokenizer.ggml.tokens")?[1000] == "ла")
        #expect(metadata.floats("tokenizer.ggml.scores")?[31999] == -31740)
        #expect(metadata.ints("tokenizer.ggml.token_type").map { [$0[0], $0[1], $0[3], $0[500]] } == [2, 3, 6, 1])
        #expect(metadata.int("tokenizer.ggml.bos_token_id") == 1)
        #expect(metadata.int("tokenizer.ggml.eos_token_id") == 2)
        #expect(metadata.int("tokenizer.ggml.unknown_token_id") == 0)
        #expect(!metadata.contains("tokenizer.ggml.padding_token_id"))
        #expect(metadata.bool("tokenizer.ggml.add_bos_token") == true)
        #expect(metadata.bool("tokenizer.ggml.add_space_prefix") == true)
    }

    // Expected ids: sentencepiece 0.2.3's `sp.encode(text)` on mistral-tokenizer.model.v1,
    // with llama.cpp's BOS (1) prepended.
    @Test("a GGUF built from imported SentencePiece metadata tokenizes like sentencepiece",
          .enabled(if: TestAssets.has(TestAssets.mistralSentencePiece)))
    func sentencePieceEncodes() throws {
        let model = try [UInt8](Data(contentsOf: TestAssets.mistralSentencePiece))
        let directory = try ConvertFixtures.directory(["tokenizer.model": model])
        let entries = try HFTokenizerImport.metadata(directory: directory, configuration: configuration(vocabSize: 32000))
        let (_, tokenizer) = try ConvertFixtures.tokenizer(from: entries)
        let cases: [(String, [Int32])] = [
            ("Hello world", [1, 22557, 1526]),
            ("The quick brown fox jumps over the lazy dog.",
             [1, 415, 2936, 9060, 285, 1142, 461, 10575, 754, 272, 17898, 3914, 28723]),
            ("  leading spaces and\ttabs\nnewline", [1, 259, 5374, 10599, 304, 12, 24856, 13, 1095, 1081]),
            ("naïve café, 日本語 🦙 3.14159", [1, 1879, 28920, 333, 28345, 28725, 28705, 29142, 29119, 30321, 28705,
                                            243, 162, 169, 156, 28705, 28770, 28723, 28740, 28781, 28740, 28782, 28774]),
            ("It's 2024!", [1, 661, 28742, 28713, 28705, 28750, 28734, 28750, 28781, 28808]),
            ("\u{FEFF}Hi", [1, 28705, 31759, 23809]),
        ]
        for (text, ids) in cases { #expect(tokenizer.encode(text) == ids, "\(text)") }
    }

    @Test("pads SentencePiece vocabularies to vocab_size and applies tokenizer_config's added tokens and template")
    func sentencePiecePaddingAndAddedTokens() throws {
        let directory = try ConvertFixtures.directory([
            "tokenizer.model": SentencePieceModelProtoTests.small,
            "tokenizer_config.json": [
                "add_bos_token": false, "add_eos_token": true, "chat_template": "{{ messages }}",
                "added_tokens_decoder": ["7": ["content": "<|im_end|>", "special": true],
                                         "8": ["content": "\u{2581}hi", "special": false]],
            ] as [String: Any],
        ])
        let entries = try HFTokenizerImport.metadata(directory: directory, configuration: configuration(vocabSize: 10))
        let metadata = try GGUFMetadata(entries.map { (key: $0.0, value: $0.1) })
        #expect(metadata.strings("tokenizer.ggml.tokens") ==
                ["<unk>", "<s>", "</s>", "<0x41>", "\u{2581}hé", "<pad>", "<mask>", "<|im_end|>", " hi", "[PAD9]"])
        #expect(metadata.ints("tokenizer.ggml.token_type") == [2, 3, 3, 6, 1, 5, 4, 3, 4, 5])
        #expect(metadata.floats("tokenizer.ggml.scores")?[7...] == [-1000, -1000, -1000])
        #expect(metadata.bool("tokenizer.ggml.add_bos_token") == false)
        #expect(metadata.bool("tokenizer.ggml.add_eos_token") == true)
        #expect(metadata.bool("tokenizer.ggml.add_space_prefix") == false)
        #expect(metadata.string("tokenizer.chat_template") == "{{ messages }}")

        #expect(throws: CheckpointFileError.self) {
            try HFTokenizerImport.metadata(directory: directory, configuration: configuration(vocabSize: 5))
        }
    }

    // MARK: tokenizer.json

    @Test("an empty tokenizer.json is named as not valid JSON (fuzz regression: checkpoint/empty-tokenizer-json-leak)")
    func emptyTokenizerJSON() throws {
        let directory = try ConvertFixtures.directory(["tokenizer.json": [UInt8]()])
        do {
            _ = try HFTokenizerImport.metadata(directory: directory, configuration: configuration(vocabSize: 17))
            Issue.record("an empty tokenizer.json was accepted")
        } catch {
            #expect("\(error)".contains("tokenizer.json"))
        }
    }

    static let tinyVocab: [String: Int] = [
        "h": 0, "e": 1, "l": 2, "o": 3, "Ġ": 4, "w": 5, "r": 6, "d": 7,
        "he": 8, "ll": 9, "hell": 10, "hello": 11, "Ġw": 12, "or": 13,
    ]

    static func tinyTokenizerJSON(preTokenizer: Any = ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true],
                                  merges: Any = [["h", "e"], ["l", "l"], ["he", "ll"], ["hell", "o"], ["Ġ", "w"], ["o", "r"]],
                                  modelType: String = "BPE") -> [String: Any] {
        [
            "version": "1.0",
            "added_tokens": [
                ["id": 14, "content": "<|endoftext|>", "special": true],
                ["id": 15, "content": "<think>", "special": false],
            ],
            "normalizer": NSNull(),
            "pre_tokenizer": preTokenizer,
            "post_processor": ["type": "ByteLevel", "trim_offsets": false],
            "model": ["type": modelType, "vocab": tinyVocab, "merges": merges],
        ]
    }

    @Test("imports a byte-level BPE tokenizer.json: ids in order, added tokens typed, merges, specials, template")
    func bytePairMetadata() throws {
        let directory = try ConvertFixtures.directory([
            "tokenizer.json": Self.tinyTokenizerJSON(),
            "tokenizer_config.json": ["bos_token": "<|endoftext|>", "eos_token": ["content": "<|endoftext|>"],
                                      "chat_template": "{{ bos_token }}"] as [String: Any],
        ])
        let entries = try HFTokenizerImport.metadata(directory: directory, configuration: configuration(vocabSize: 17))
        let metadata = try GGUFMetadata(entries.map { (key: $0.0, value: $0.1) })
        #expect(metadata.string("tokenizer.ggml.model") == "gpt2")
        #expect(metadata.string("tokenizer.ggml.pre") == "gpt2")
        #expect(metadata.strings("tokenizer.ggml.tokens") == [
            "h", "e", "l", "o", "Ġ", "w", "r", "d", "he", "ll", "hell", "hello", "Ġw", "or",
            "<|endoftext|>", "<think>", "[PAD16]"])
        #expect(metadata.ints("tokenizer.ggml.token_type") == Array(repeating: 1, count: 14) + [3, 4, 5])
        #expect(metadata.strings("tokenizer.ggml.merges") == ["h e", "l l", "he ll", "hell o", "Ġ w", "o r"])
        #expect(metadata.int("tokenizer.ggml.bos_token_id") == 14 && metadata.int("tokenizer.ggml.eos_token_id") == 14)
        #expect(metadata.bool("tokenizer.ggml.add_bos_token") == false)
        #expect(metadata.string("tokenizer.chat_template") == "{{ bos_token }}")

        let (_, tokenizer) = try ConvertFixtures.tokenizer(from: entries)
        #expect(tokenizer.encode("hello world") == [11, 12, 13, 2, 7])
        #expect(tokenizer.encode("hello<|endoftext|>", addSpecial: false, parseSpecial: true) == [11, 14])
    }

    @Test("merges stored as strings or as pairs give the same GGUF merges; spaces inside pairs become U+0120")
    func mergeFormats() throws {
        let strings = try HFTokenizerImport.mergeStrings(["h e", "Ġ w"], file: "t")
        let pairs = try HFTokenizerImport.mergeStrings([["h", "e"], ["Ġ", "w"]], file: "t")
        #expect(strings == pairs)
        #expect(try HFTokenizerImport.mergeStrings([["a b", "c"]], file: "t") == ["a\u{120}b c"])
        #expect(throws: CheckpointFileError.invalidTokenizer(file: "t", reason: "model.merges[1] is neither \"a b\" nor [\"a\", \"b\"]")) {
            try HFTokenizerImport.mergeStrings(["a b", ["a"]], file: "t")
        }
    }

    @Test("names the pre-tokenizer from its JSON: Llama-3 split, GPT-2 byte level, SmolLM digits")
    func preTokenizerNames() throws {
        func name(_ pre: Any, config: [String: Any] = [:]) throws(CheckpointFileError) -> String {
            try HFTokenizerImport.preTokenizerName(pre, config: config, file: "tokenizer.json")
        }
        func split(_ regex: String) -> [String: Any] {
            ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": regex], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
            ]]
        }
        let digits: [String: Any] = ["type": "Sequence", "pretokenizers": [
            ["type": "Digits", "individual_digits": true],
            ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
        ]]
        #expect(try name(split(HFTokenizerImport.llama3Regex)) == "llama-bpe")
        #expect(try name(split(HFTokenizerImport.gpt2Regex)) == "gpt2")
        #expect(try name(["type": "ByteLevel", "add_prefix_space": false]) == "gpt2")
        #expect(try name(digits) == "smollm")
        #expect(try name(digits, config: ["clean_up_tokenization_spaces": true]) == "starcoder")

        #expect { try name(split("\\p{N}+|[a-z]+")) } throws: { error in
            (error as? CheckpointFileError)?.description.contains("\\p{N}+|[a-z]+") == true
        }
        #expect { try name(["type": "Metaspace", "replacement": "▁"]) } throws: { error in
            guard case .unsupportedPreTokenizer(_, let text)? = error as? CheckpointFileError else { return false }
            return text.contains("Metaspace")
        }
    }

    @Test("refuses non-BPE tokenizer.json models and SentencePiece-style BPE, naming the type")
    func unsupportedModels() throws {
        for type in ["Unigram", "WordPiece"] {
            let directory = try ConvertFixtures.directory(["tokenizer.json": Self.tinyTokenizerJSON(modelType: type)])
            #expect { try HFTokenizerImport.metadata(directory: directory, configuration: configuration(vocabSize: 16)) } throws: { error in
                guard case .unsupportedTokenizerModel(_, let found, let supported)? = error as? CheckpointFileError else { return false }
                return found == type && supported == ["BPE"]
            }
        }
        var json = Self.tinyTokenizerJSON()
        json["model"] = ["type": "BPE", "byte_fallback": true, "vocab": Self.tinyVocab, "merges": [String]()]
        let fallback = try ConvertFixtures.directory(["tokenizer.json": json])
        #expect(throws: CheckpointFileError.self) {
            try HFTokenizerImport.metadata(directory: fallback, configuration: configuration(vocabSize: 16))
        }
        let outOfRange = try ConvertFixtures.directory(["tokenizer.json": Self.tinyTokenizerJSON()])
        #expect { try HFTokenizerImport.metadata(directory: outOfRange, configuration: configuration(vocabSize: 15)) } throws: { error in
            (error as? CheckpointFileError)?.description.contains("<think>") == true
        }
    }

    @Test("a directory without tokenizer files says what was looked for")
    func noTokenizer() throws {
        let directory = try GGUFTestFiles.temporaryDirectory()
        #expect(throws: CheckpointFileError.noTokenizer(directory: directory, lookedFor: ["tokenizer.model", "tokenizer.json"])) {
            try HFTokenizerImport.metadata(directory: directory, configuration: configuration(vocabSize: 16))
        }
        let broken = try ConvertFixtures.directory(["tokenizer.json": "{\"model\": "])
        #expect { try HFTokenizerImport.metadata(directory: broken, configuration: configuration(vocabSize: 16)) } throws: { error in
            guard case .invalidJSON(let file, _)? = error as? CheckpointFileError else { return false }
            return file.hasSuffix("tokenizer.json")
        }
    }

    @Test("a tokenizer.json written from SmolLM2's GGUF imports back to the same vocabulary and tokenization",
          .enabled(if: TestAssets.has(TestAssets.smolLM2)))
    func smolLM2RoundTrip() throws {
        let original = try GGUFFile(path: TestAssets.smolLM2.path)
        let meta = original.metadata
        let tokens = try meta.requireStrings("tokenizer.ggml.tokens")
        let types = try meta.requireInts("tokenizer.ggml.token_type")
        let merges = try meta.requireStrings("tokenizer.ggml.merges")
        var vocab: [String: Int] = [:]
        var added: [[String: Any]] = []
        for (id, token) in tokens.enumerated() {
            if types[id] == 3 { added.append(["id": id, "content": token, "special": true]) } else { vocab[token] = id }
        }
        let json: [String: Any] = [
            "added_tokens": added,
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "Digits", "individual_digits": true],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            ]],
            "post_processor": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true],
            "model": ["type": "BPE", "vocab": vocab, "merges": merges],
        ]
        let config: [String: Any] = [
            "bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<|endoftext|>",
            "pad_token": "<|im_end|>", "add_prefix_space": false, "clean_up_tokenization_spaces": false,
            "chat_template": meta.string("tokenizer.chat_template") ?? "",
        ]
        let directory = try ConvertFixtures.directory(["tokenizer.json": json, "tokenizer_config.json": config])
        let entries = try HFTokenizerImport.metadata(directory: directory, configuration: configuration(vocabSize: tokens.count))
        let (converted, tokenizer) = try ConvertFixtures.tokenizer(from: entries)
        let imported = converted.metadata
        #expect(imported.strings("tokenizer.ggml.tokens") == tokens)
        #expect(imported.ints("tokenizer.ggml.token_type") == types)
        #expect(imported.strings("tokenizer.ggml.merges") == merges)
        for key in ["model", "pre"] { #expect(imported.string("tokenizer.ggml.\(key)") == meta.string("tokenizer.ggml.\(key)")) }
        for key in ["bos", "eos", "unknown", "padding"] {
            #expect(imported.int("tokenizer.ggml.\(key)_token_id") == meta.int("tokenizer.ggml.\(key)_token_id"), "\(key)")
        }
        for key in ["add_bos_token", "add_space_prefix"] {
            #expect(imported.bool("tokenizer.ggml.\(key)") == meta.bool("tokenizer.ggml.\(key)"), "\(key)")
        }
        #expect(imported.string("tokenizer.chat_template") == meta.string("tokenizer.chat_template"))

        let reference = try TokenizerLoader.load(from: original)
        for text in ["Hello, world! It's 2024 and I'm testing 12345.", "  Emma Woodhouse, handsome, clever, and rich,\n\twith a comfortable home",
                     "<|im_start|>user\nnaïve café 日本語 🦙<|im_end|>"] {
            #expect(tokenizer.encode(text, addSpecial: true, parseSpecial: true)
                    == reference.encode(text, addSpecial: true, parseSpecial: true), "\(text)")
            #expect(tokenizer.decode(tokenizer.encode(text)) == reference.decode(reference.encode(text)))
        }
    }
}
