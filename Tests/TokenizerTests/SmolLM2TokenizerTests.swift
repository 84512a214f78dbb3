import Foundation
import ModelFiles
import Testing
import TestSupport
@testable import Tokenizer

@Suite("SmolLM2 byte-level BPE (pre-tokenizer smollm)", .enabled(if: TestAssets.has(TestAssets.smolLM2)))
struct SmolLM2TokenizerTests {
    let tokenizer: any Tokenizer

    init() throws {
        tokenizer = try LoadedTokenizers.tokenizer(at: TestAssets.smolLM2)
    }

    @Test("loads the vocabulary and special tokens from the model file")
    func metadata() throws {
        let file = try GGUFFile(path: TestAssets.smolLM2.path)
        _ = try TokenizerLoader.load(from: file)
        #expect(tokenizer is BytePairTokenizer)
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.bosToken == 1)
        #expect(tokenizer.eosToken == 2)
        #expect(!tokenizer.addsBOS)
        #expect(tokenizer.isEndOfGeneration(2))      // <|im_end|>
        #expect(tokenizer.isEndOfGeneration(0))      // <|endoftext|>
        #expect(!tokenizer.isEndOfGeneration(19556)) // "Hello"
    }

    /// Expected ids come from a throwaway Python oracle: GPT-2's reference `encoder.py` merge loop
    /// (repeatedly merge the lowest-ranked pair everywhere) over the GGUF's own
    /// tokens/merges read with the python `gguf` package, after a pre-tokenizer
    /// written with `unicodedata` categories (digits alone, then GPT-2's regex).
    @Test("matches an independent Python BPE on short texts", arguments: [
        ("Hello world", [19556, 905]),
        ("The year 2024 cost $3.50!", [504, 713, 216, 34, 32, 34, 36, 1708, 1885, 35, 30, 37, 32, 17]),
        ("naïve café déjà vu", [3546, 46494, 37366, 32564, 90, 16739, 386, 101]),
        ("日本語のテキスト", [23274, 115, 40993, 179, 120, 248, 26453, 11100, 224, 10391, 251, 10391, 134, 11100, 226]),
        ("I'm here, aren't you?", [57, 5248, 1535, 28, 4775, 982, 346, 47]),
        ("    indented code\n", [333, 641, 6574, 2909, 198]),
        ("emoji 🎉 party", [391, 33777, 15107, 232, 227, 4732]),
    ] as [(String, [Int32])])
    func knownEncodings(_ text: String, _ expected: [Int32]) {
        #expect(tokenizer.encode(text, addSpecial: true, parseSpecial: false) == expected)
        #expect(tokenizer.decode(expected, skipSpecial: true) == text)
    }

    @Test("chat markers written in the text become single control tokens only with parseSpecial")
    func chatMarkers() {
        let text = "<|im_start|>user\nHi<|im_end|>"
        #expect(tokenizer.encode(text, addSpecial: false, parseSpecial: true) == [1, 4093, 198, 26843, 2])
        let literal = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        #expect(!literal.contains(1) && !literal.contains(2))
        #expect(tokenizer.decode(literal, skipSpecial: true) == text)
        #expect(tokenizer.decode([1, 4093, 198, 26843, 2], skipSpecial: true) == "user\nHi")
        #expect(tokenizer.decode([1, 4093, 198, 26843, 2], skipSpecial: false) == text)
        #expect(tokenizer.tokenBytes(1) == Array("<|im_start|>".utf8))
    }

    @Test("decode(encode(text)) gives back 100 KB of multilingual text, emoji and code")
    func roundTrip() {
        let text = SampleText.make(minimumBytes: 100_000)
        #expect(text.utf8.count >= 100_000)
        let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        #expect(ids.count > 10_000)
        #expect(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize })
        #expect(tokenizer.decode(ids, skipSpecial: true) == text)
    }

    #if !DEBUG
    /// Thread CPU time, not wall time: the test runner runs suites in parallel on few cores.
    @Test("encodes 100 KB of text in well under a second")
    func speed() {
        let text = SampleText.make(minimumBytes: 100_000)
        func cpuSeconds() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
        }
        let start = cpuSeconds()
        _ = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
        #expect(cpuSeconds() - start < 0.5)
    }
    #endif
}
