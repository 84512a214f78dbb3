/// Turns ids into text one at a time for streaming output. Each `append` returns
/// only text that can no longer change: a multi-byte character split across
/// tokens (including SPM byte tokens such as <0xE2>) is held until complete, and
/// for vocabularies that tidy spaces the bytes a later token could still affect
/// are held too. The concatenation of every `append` plus `flush` equals
/// `tokenizer.decode(ids, skipSpecial:)`.
public struct StreamingDecoder {
    private let tokenizer: any Tokenizer
    private let vocabulary: Vocabulary?
    private let skipSpecial: Bool
    private var firstToken = true
    /// Raw bytes not yet passed through the space-tidying passes.
    private var uncleaned: [UInt8] = []
    /// Final bytes waiting for the rest of a UTF-8 sequence.
    private var pending: [UInt8] = []

    public init(tokenizer: any Tokenizer, skipSpecial: Bool = true) {
        self.tokenizer = tokenizer
        self.vocabulary = (tokenizer as? VocabularyBacked)?.vocabulary
        self.skipSpecial = skipSpecial
    }

    public mutating func append(_ id: Int32) -> String {
        guard let vocabulary else {
            pending.append(contentsOf: tokenizer.tokenBytes(id))
            return takeCompleteText()
        }
        let strip = firstToken && vocabulary.addSpacePrefix
        firstToken = false
        if vocabulary.cleanSpaces {
            vocabulary.appendPiece(id, skipSpecial: skipSpecial, stripLeadingSpace: strip, to: &uncleaned)
            // The tidying rules look at most two bytes past an apostrophe and never
            // across a byte outside this set, so everything up to the last such byte is final.
            if let boundary = uncleaned.lastIndex(where: { !StreamingDecoder.tidyingBytes.contains($0) }) {
                var chunk = Array(uncleaned[...boundary])
                Vocabulary.cleanSpaces(&chunk)
                pending.append(contentsOf: chunk)
                uncleaned.removeSubrange(...boundary)
            }
        } else {
            vocabulary.appendPiece(id, skipSpecial: skipSpecial, stripLeadingSpace: strip, to: &pending)
        }
        return takeCompleteText()
    }

    /// Returns everything still held, with U+FFFD for an unfinished character.
    public mutating func flush() -> String {
        if !uncleaned.isEmpty {
            Vocabulary.cleanSpaces(&uncleaned)
            pending.append(contentsOf: uncleaned)
            uncleaned.removeAll()
        }
        let text = String(decoding: pending, as: UTF8.self)
        pending.removeAll()
        return text
    }

    private static let tidyingBytes: Set<UInt8> = Set(" '?!.,rv".utf8)

    private mutating func takeCompleteText() -> String {
        let complete = StreamingDecoder.completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeSubrange(..<complete)
        return text
    }

    /// Length of `bytes` without a trailing sequence that is a valid but unfinished
    /// UTF-8 character; invalid bytes are not held (they decode to U+FFFD either way).
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var start = n
        while start > 0 && n - start < 3 && bytes[start - 1] & 0xC0 == 0x80 { start -= 1 }
        guard start > 0 else { return n }
        let lead = bytes[start - 1]
        let needed: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: needed = 2
        case 0xE0: needed = 3; secondRange = 0xA0...0xBF
        case 0xED: needed = 3; secondRange = 0x80...0x9F
        case 0xE1...0xEC, 0xEE...0xEF: needed = 3
        case 0xF0: needed = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: needed = 4
        case 0xF4: needed = 4; secondRange = 0x80...0x8F
        default: return n
        }
        let have = n - (start - 1)
        guard have < needed else { return n }
        if have >= 2 && !secondRange.contains(bytes[start]) { return n }
        return start - 1
    }
}
