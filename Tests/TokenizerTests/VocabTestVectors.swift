import Foundation
import ModelFiles
import TestSupport
@testable import Tokenizer

/// llama.cpp's tokenizer test vectors (tests/test-tokenizer-0.cpp): inputs in `.inp`
/// separated by "\n__ggml_vocab_test__\n", one line of expected ids per input in
/// `.out`, tokenized with add_special = false and parse_special = false.
struct VocabTestVectors {
    struct Case {
        let input: String
        let expected: [Int32]
    }

    let tokenizer: any Tokenizer
    let cases: [Case]

    static func load(_ name: String) throws -> VocabTestVectors {
        let url = TestAssets.vocab(name)
        let tokenizer = try LoadedTokenizers.tokenizer(at: url)
        let raw = try [UInt8](Data(contentsOf: URL(fileURLWithPath: url.path + ".inp")))
        let separator = Array("\n__ggml_vocab_test__\n".utf8)
        var inputs: [String] = []
        var start = 0
        var i = 0
        while start < raw.count {
            if i + separator.count > raw.count {
                inputs.append(String(decoding: raw[start...], as: UTF8.self))
                break
            }
            if raw[i..<(i + separator.count)].elementsEqual(separator) {
                inputs.append(String(decoding: raw[start..<i], as: UTF8.self))
                i += separator.count
                start = i
            } else {
                i += 1
            }
        }
        let lines = try String(contentsOfFile: url.path + ".out", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) } }
        let expected = lines.count == inputs.count + 1 && lines.last?.isEmpty == true ? Array(lines.dropLast()) : lines
        guard expected.count == inputs.count else {
            throw CocoaError(.fileReadCorruptFile, userInfo: ["inputs": inputs.count, "outputs": expected.count])
        }
        return VocabTestVectors(tokenizer: tokenizer, cases: zip(inputs, expected).map { Case(input: $0, expected: $1) })
    }

    /// Inputs whose ids differ from llama.cpp's.
    func failures() -> [(Case, [Int32])] {
        cases.compactMap { c in
            let got = tokenizer.encode(c.input, addSpecial: false, parseSpecial: false)
            return got == c.expected ? nil : (c, got)
        }
    }
}
