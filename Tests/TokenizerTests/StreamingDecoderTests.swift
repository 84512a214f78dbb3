import Foundation
import ModelFiles
import Testing
import TestSupport
@testable import Tokenizer

@Suite("Streaming decoder")
struct StreamingDecoderTests {
    static let texts = [
        "日本語のテキスト 🎉🚀👩‍💻 🇫🇷 café",
        "Emoji only: 🦙🦙🦙 and CJK 中文文本，한국어 문장도",
        "Hello , world ! I 'm sure it 's fine ' quoted ' text . We 're done ?",
        SampleText.make(minimumBytes: 5_000),
    ]

    /// Feeds ids one at a time; every piece must be whole characters, and all pieces
    /// together must be exactly what `decode` gives for the full list.
    static func checkStreaming(_ tokenizer: any Tokenizer, _ ids: [Int32], skipSpecial: Bool = true) {
        var decoder = StreamingDecoder(tokenizer: tokenizer, skipSpecial: skipSpecial)
        var streamed = ""
        for id in ids {
            let piece = decoder.append(id)
            #expect(!piece.unicodeScalars.contains("\u{FFFD}"))
            streamed += piece
        }
        streamed += decoder.flush()
        #expect(streamed == tokenizer.decode(ids, skipSpecial: skipSpecial))
    }

    @Test("holds back SPM byte tokens until the character is complete")
    func byteTokens() throws {
        let tokenizer = try TokenizerLoader.load(from: TinyVocabulary.metadata())
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        #expect(decoder.append(TinyVocabulary.id("▁a")) == "a")
        func byte(_ value: Int32) -> Int32 { 3 + value }
        #expect(decoder.append(byte(0xE2)) == "")
        #expect(decoder.append(byte(0x82)) == "")
        #expect(decoder.append(byte(0xAC)) == "€")
        #expect(decoder.append(TinyVocabulary.id("▁ab")) == " ab")
        #expect(decoder.append(byte(0xF0)) == "")
        #expect(decoder.flush() == "\u{FFFD}")
    }

    @Test("only an unfinished valid UTF-8 sequence is held back")
    func completePrefix() {
        #expect(StreamingDecoder.completePrefixLength([0x61, 0xE2, 0x82]) == 1)
        #expect(StreamingDecoder.completePrefixLength([0x61, 0xE2, 0x82, 0xAC]) == 4)
        #expect(StreamingDecoder.completePrefixLength([0xF0, 0x9F, 0x8E]) == 0)
        #expect(StreamingDecoder.completePrefixLength([0xE0, 0x80]) == 2)   // invalid second byte: not held
        #expect(StreamingDecoder.completePrefixLength([0x80, 0x80]) == 2)   // stray continuation bytes
        #expect(StreamingDecoder.completePrefixLength([]) == 0)
    }

    @Test("streams SmolLM2 ids to exactly the decoded text", .enabled(if: TestAssets.has(TestAssets.smolLM2)),
          arguments: texts)
    func smolLM2(_ text: String) throws {
        let tokenizer = try LoadedTokenizers.tokenizer(at: TestAssets.smolLM2)
        Self.checkStreaming(tokenizer, tokenizer.encode(text, addSpecial: false, parseSpecial: false))
        Self.checkStreaming(tokenizer, tokenizer.encode("<|im_start|>" + text + "<|im_end|>", addSpecial: false, parseSpecial: true),
                            skipSpecial: false)
    }

    @Test("streams Llama-2 SentencePiece and GPT-2 ids (space tidying) to exactly the decoded text",
          .enabled(if: TestAssets.has(TestAssets.vocab("gpt-2"))), arguments: ["llama-spm", "gpt-2"])
    func otherVocabularies(_ name: String) throws {
        let tokenizer = try LoadedTokenizers.vocab(name)
        for text in Self.texts {
            Self.checkStreaming(tokenizer, tokenizer.encode(text, addSpecial: true, parseSpecial: false))
        }
    }

    @Test("space tidying follows llama.cpp's clean_spaces passes")
    func cleanSpaces() {
        func clean(_ s: String) -> String {
            var bytes = Array(s.utf8)
            Vocabulary.cleanSpaces(&bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
        #expect(clean("Hello , world !") == "Hello, world!")
        #expect(clean("a ' b ' c") == "a'b'c")
        #expect(clean("a ' ' b") == "a'' b")  // the space after a match is consumed, not reused
        #expect(clean("it 's I 'm we 're they 've") == "it's I'm we're they've")
        #expect(clean("don 't we 'll") == "don 't we 'll")
        #expect(clean(" .") == ".")
    }
}
