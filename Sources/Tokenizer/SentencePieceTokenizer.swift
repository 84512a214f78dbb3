/// SentencePiece ("llama") vocabularies as llama.cpp's `llm_tokenizer_spm` runs them:
/// spaces become "▁", a space is prefixed to each text run that starts the input or
/// follows a special token, then the highest-scoring adjacent pair that forms a
/// token is merged until none is left; characters that never became a token fall
/// back to their <0xXX> byte tokens.
public struct SentencePieceTokenizer: Tokenizer, VocabularyBacked {
    let vocabulary: Vocabulary
    private let table: TokenTable
    private let scores: [Float]
    private let byteTokens: [Int32?]

    init(vocabulary: Vocabulary, scores: [Float]?) {
        self.vocabulary = vocabulary
        var table = TokenTable(capacity: vocabulary.count)
        for id in 0..<vocabulary.count {
            table.insert(Array(vocabulary.text(id)), value: Int32(id))
        }
        self.table = table
        self.scores = scores ?? [Float](repeating: 0, count: vocabulary.count)
        self.byteTokens = (0..<256).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            let name = "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
            return table.lookup(Array(name.utf8)) ?? table.lookup([UInt8(byte)])
        }
    }

    public var vocabularySize: Int { vocabulary.count }
    public var bosToken: Int32? { vocabulary.bos }
    public var eosToken: Int32? { vocabulary.eos }
    public var addsBOS: Bool { vocabulary.addBOS }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        let bytes = Array(text.utf8)
        var output: [Int32] = []
        output.reserveCapacity(bytes.count / 3 + 2)
        if addSpecial && vocabulary.addBOS, let bos = vocabulary.bos { output.append(bos) }
        var session = Session()
        var previousWasSpecial = true
        for fragment in vocabulary.partition(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                output.append(id)
                previousWasSpecial = true
            case .text(let range):
                session.escaped.removeAll(keepingCapacity: true)
                if vocabulary.addSpacePrefix && previousWasSpecial { session.escaped.append(contentsOf: [0xE2, 0x96, 0x81]) }
                for byte in bytes[range] {
                    if byte == 0x20 {
                        session.escaped.append(contentsOf: [0xE2, 0x96, 0x81])
                    } else {
                        session.escaped.append(byte)
                    }
                }
                tokenize(&session, into: &output)
                previousWasSpecial = false
            }
        }
        if addSpecial && vocabulary.addEOS, let eos = vocabulary.eos { output.append(eos) }
        return output
    }

    public func tokenBytes(_ id: Int32) -> [UInt8] { Array(vocabulary.piece(id)) }

    public func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        vocabulary.decode(ids, skipSpecial: skipSpecial)
    }

    public func isEndOfGeneration(_ id: Int32) -> Bool { vocabulary.endOfGeneration.contains(id) }

    public var endOfGenerationTokens: [Int32] { vocabulary.endOfGeneration.sorted() }

    // MARK: Merging

    private struct Symbol {
        var start: Int
        var length: Int
        var prev: Int
        var next: Int
    }

    private struct Bigram: HeapOrdered {
        var left: Int
        var right: Int
        var score: Float
        var size: Int
        static func precedes(_ a: Bigram, _ b: Bigram) -> Bool {
            a.score > b.score || (a.score == b.score && a.left < b.left)
        }
    }

    private struct Session {
        var escaped: [UInt8] = []
        var symbols: [Symbol] = []
        var queue = BinaryHeap<Bigram>()
    }

    private func tokenize(_ session: inout Session, into output: inout [Int32]) {
        session.symbols.removeAll(keepingCapacity: true)
        session.queue.removeAll()
        let text = session.escaped
        guard !text.isEmpty else { return }
        var offset = 0
        while offset < text.count {
            let length = min(Self.utf8Length(text[offset]), text.count - offset)
            let index = session.symbols.count
            session.symbols.append(Symbol(start: offset, length: length, prev: index - 1,
                                          next: offset + length == text.count ? -1 : index + 1))
            offset += length
        }
        text.withUnsafeBufferPointer { buffer in
            for i in 1..<session.symbols.count { addBigram(i - 1, i, &session, buffer) }
            while let bigram = session.queue.pop() {
                let left = session.symbols[bigram.left], right = session.symbols[bigram.right]
                if left.length == 0 || right.length == 0 || left.length + right.length != bigram.size { continue }
                session.symbols[bigram.left].length += right.length
                session.symbols[bigram.right].length = 0
                session.symbols[bigram.left].next = right.next
                if right.next >= 0 { session.symbols[right.next].prev = bigram.left }
                addBigram(left.prev, bigram.left, &session, buffer)
                addBigram(bigram.left, right.next, &session, buffer)
            }
            var i = 0
            while i != -1 {
                let symbol = session.symbols[i]
                let slice = UnsafeBufferPointer(rebasing: buffer[symbol.start..<(symbol.start + symbol.length)])
                if let id = table.lookup(slice) {
                    output.append(id)
                } else {
                    for byte in slice { if let id = byteTokens[Int(byte)] { output.append(id) } }
                }
                i = symbol.next
            }
        }
    }

    @inline(__always)
    private func addBigram(_ left: Int, _ right: Int, _ session: inout Session, _ text: UnsafeBufferPointer<UInt8>) {
        guard left >= 0, right >= 0 else { return }
        let start = session.symbols[left].start
        let size = session.symbols[left].length + session.symbols[right].length
        guard let id = table.lookup(UnsafeBufferPointer(rebasing: text[start..<(start + size)])),
              Int(id) < scores.count else { return }
        session.queue.push(Bigram(left: left, right: right, score: scores[Int(id)], size: size))
    }

    @inline(__always)
    static func utf8Length(_ lead: UInt8) -> Int {
        switch lead >> 4 {
        case 0xC, 0xD: return 2
        case 0xE: return 3
        case 0xF: return 4
        default: return 1
        }
    }
}

/// Lets `StreamingDecoder` reach the shared piece cache of our own tokenizers.
protocol VocabularyBacked {
    var vocabulary: Vocabulary { get }
}
