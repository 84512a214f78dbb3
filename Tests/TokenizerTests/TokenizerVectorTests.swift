import Foundation
import Testing
import TestSupport
@testable import Tokenizer

@Suite("llama.cpp tokenizer test vectors")
struct TokenizerVectorTests {
    /// Vocabularies whose model and pre-tokenizer we implement; every one must match
    /// llama.cpp exactly.
    static let vocabularies = ["llama-spm", "gpt-2", "llama-bpe", "phi-3", "mpt", "starcoder", "refact", "command-r"]

    @Test("encoding matches llama.cpp's expected ids for every test input",
          .enabled(if: TestAssets.has(TestAssets.vocab("llama-spm"))), arguments: vocabularies)
    func matchesLlamaCpp(_ name: String) throws {
        guard TestAssets.has(TestAssets.vocab(name)) else { return }
        let vectors = try VocabTestVectors.load(name)
        #expect(vectors.cases.count >= 40)
        let failures = vectors.failures()
        for (c, got) in failures.prefix(5) {
            Issue.record("\(name): \(c.input.debugDescription) -> \(got), expected \(c.expected)")
        }
        #expect(failures.isEmpty, "\(name): \(failures.count) of \(vectors.cases.count) inputs differ")
    }

    @Test("decoding llama.cpp's ids gives back the test input",
          .enabled(if: TestAssets.has(TestAssets.vocab("gpt-2"))), arguments: ["llama-spm", "gpt-2", "llama-bpe"])
    func decodesTestVectors(_ name: String) throws {
        let vectors = try VocabTestVectors.load(name)
        for c in vectors.cases {
            let decoded = vectors.tokenizer.decode(c.expected, skipSpecial: true)
            if name == "llama-spm" {
                // SentencePiece drops nothing but the prefix space llama.cpp adds.
                #expect(decoded == c.input, "\(c.input.debugDescription)")
            } else {
                // gpt-2 and llama-bpe tidy " ?", " 's" etc. on decode (clean_spaces).
                var cleaned = Array(c.input.utf8)
                Vocabulary.cleanSpaces(&cleaned)
                #expect(decoded == String(decoding: cleaned, as: UTF8.self), "\(c.input.debugDescription)")
            }
        }
    }
}
