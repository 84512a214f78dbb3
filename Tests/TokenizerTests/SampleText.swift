import Foundation
import TestSupport

/// Deterministic multilingual text for round-trip and speed tests: prose, code,
/// accents, CJK, emoji, digits, odd whitespace, plus any cached corpus files.
enum SampleText {
    static let snippets: [String] = [
        "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. ",
        "Ça coûte 12,50 € — déjà vu, naïve façade, Øresund, Straße, İstanbul. ",
        "日本語のテキストと中文文本，还有한국어 문장도 있습니다。",
        "Emoji: 🎉🚀👩‍💻 🇫🇷 ❤️ 🤖 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math 𝑥² + 𝑦² = 𝑧². ",
        "func encode(_ text: String) -> [Int32] {\n    return text.utf8.map { Int32($0) } // 42\n}\n",
        "Русский текст, ελληνικά γράμματα, עברית, العربية, हिन्दी, ไทย. ",
        "  leading spaces\ttabs\t\tand\r\nwindows newlines\n\n\nthree blank lines   ",
        "I'm sure you'll see they've done it; don't ask what 'quoted' means? Yes! No. ",
        "Numbers: 3.14159, 1,000,000, 2024-11-26, ½ ¾ ², 0x1F600, 007. ",
        "Mixed: naïve日本🎉test123abc ___ *** ### <tag attr=\"v\">&amp;</tag> ",
    ]

    /// At least `minimumBytes` of UTF-8: up to half from cached corpus files, the rest
    /// mixing the snippets in a fixed pseudo-random order.
    static func make(minimumBytes: Int) -> String {
        var text = ""
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for url in corpusFiles() where text.utf8.count < minimumBytes / 2 {
            if let corpus = try? String(contentsOf: url, encoding: .utf8) {
                text += String(corpus.prefix(minimumBytes / 2 - text.utf8.count))
            }
        }
        while text.utf8.count < minimumBytes {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            text += snippets[Int(state >> 33) % snippets.count]
        }
        return text
    }

    private static func corpusFiles() -> [URL] {
        let dir = TestAssets.corpusDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".txt") }.sorted().map { dir.appendingPathComponent($0) }
    }
}
