/// Byte-level BPE ("gpt2") vocabularies as llama.cpp's `llm_tokenizer_bpe` runs them:
/// the pre-tokenizer named by `tokenizer.ggml.pre` splits the text into words, each
/// word starts as one symbol per byte, and the adjacent pair with the lowest merge
/// rank is merged until none is left.
///
/// Works on raw bytes, not on GPT-2's printable alphabet: token and merge texts are
/// mapped back to bytes once at load, and every string that can appear as a symbol
/// gets an id (its token id, or an id past the vocabulary for merge halves that are
/// not tokens), so a merge lookup is one integer-keyed probe.
public struct BytePairTokenizer: Tokenizer, VocabularyBacked {
    let vocabulary: Vocabulary
    let preTokenizer: PreTokenizer
    /// Llama-3 style: a whole word that is a token is taken as is, before merging.
    let ignoresMerges: Bool
    private let symbols: TokenTable
    /// (left symbol id << 32 | right symbol id) -> (rank, merged symbol id).
    private let merges: [UInt64: Merge]
    private let byteSymbols: [Int32]

    private struct Merge: Sendable {
        var rank: Int32
        var result: Int32
    }

    init(vocabulary: Vocabulary, merges mergeLines: [String], preTokenizer: PreTokenizer,
         ignoresMerges: Bool) throws(TokenizerError) {
        self.vocabulary = vocabulary
        self.preTokenizer = preTokenizer
        self.ignoresMerges = ignoresMerges
        // Merge halves and results are nearly always tokens themselves: sized for the
        // vocabulary, the table grows for the rare ones that are not.
        var table = TokenTable(capacity: vocabulary.count)
        for id in 0..<vocabulary.count {
            let text = String(decoding: vocabulary.text(id), as: UTF8.self)
            if let bytes = ByteLevelEncoding.decode(text) { table.insert(bytes, value: Int32(id)) }
        }
        var nextID = Int32(vocabulary.count)
        func intern(_ bytes: [UInt8]) -> Int32 {
            if let id = table.lookup(bytes) { return id }
            defer { nextID += 1 }
            return table.insert(bytes, value: nextID)
        }
        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(mergeLines.count)
        for (rank, line) in mergeLines.enumerated() {
            // llama.cpp splits at the first space after the first character, so a
            // merge whose left half is a space ("  x") still parses.
            let utf8 = Array(line.utf8)
            guard utf8.count > 2, let split = utf8.dropFirst().firstIndex(of: 0x20), split + 1 < utf8.count else {
                throw .badMerge(index: rank, line: line)
            }
            // Halves outside the byte alphabet can never match byte-level symbols.
            guard let left = ByteLevelEncoding.decode(String(decoding: utf8[..<split], as: UTF8.self)),
                  let right = ByteLevelEncoding.decode(String(decoding: utf8[(split + 1)...], as: UTF8.self))
            else { continue }
            let key = UInt64(UInt32(bitPattern: intern(left))) << 32 | UInt64(UInt32(bitPattern: intern(right)))
            if merges[key] == nil {
                merges[key] = Merge(rank: Int32(rank), result: intern(left + right))
            }
        }
        self.symbols = table
        self.merges = merges
        self.byteSymbols = (0..<256).map { table.lookup([UInt8($0)]) ?? -1 }
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
        for fragment in vocabulary.partition(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id): output.append(id)
            case .text(let range): tokenize(bytes, range, &session, into: &output)
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
        var id: Int32
        var start: Int
        var length: Int
        var prev: Int
        var next: Int
    }

    private struct Bigram: HeapOrdered {
        var left: Int
        var right: Int
        var leftID: Int32
        var rightID: Int32
        var rank: Int32
        var result: Int32
        static func precedes(_ a: Bigram, _ b: Bigram) -> Bool {
            a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
        }
    }

    private struct Session {
        var scalars: [UInt32] = []
        var flags: [UInt8] = []
        var byteOffsets: [Int] = []
        var ends: [Int] = []
        var scratch: [Int] = []
        var symbols: [Symbol] = []
        var queue = BinaryHeap<Bigram>()
    }

    private func tokenize(_ bytes: [UInt8], _ range: Range<Int>, _ session: inout Session, into output: inout [Int32]) {
        session.scalars.removeAll(keepingCapacity: true)
        session.flags.removeAll(keepingCapacity: true)
        session.byteOffsets.removeAll(keepingCapacity: true)
        // Fragments come from splitting valid UTF-8 at token boundaries, so each
        // decodes cleanly; offsets map code-point word ends back to bytes.
        var offset = range.lowerBound
        var iterator = bytes[range].makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                session.byteOffsets.append(offset)
                session.scalars.append(scalar.value)
                session.flags.append(CodepointFlags.of(scalar.value).rawValue)
                offset += UTF8.width(scalar)
            case .emptyInput: break loop
            case .error: break loop
            }
        }
        session.byteOffsets.append(offset)
        session.scalars.withUnsafeBufferPointer { scalars in
            session.flags.withUnsafeBufferPointer { flags in
                preTokenizer.split(scalars, flags, ends: &session.ends, scratch: &session.scratch)
            }
        }
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            for end in session.ends {
                mergeWord(buffer, session.byteOffsets[start]..<session.byteOffsets[end], &session, into: &output)
                start = end
            }
        }
    }

    private func mergeWord(_ text: UnsafeBufferPointer<UInt8>, _ word: Range<Int>, _ session: inout Session,
                           into output: inout [Int32]) {
        if ignoresMerges, let id = symbols.lookup(UnsafeBufferPointer(rebasing: text[word])), Int(id) < vocabulary.count {
            output.append(id)
            return
        }
        session.symbols.removeAll(keepingCapacity: true)
        session.queue.removeAll()
        for position in word {
            let index = session.symbols.count
            session.symbols.append(Symbol(id: byteSymbols[Int(text[position])], start: position, length: 1,
                                          prev: index - 1, next: position + 1 == word.upperBound ? -1 : index + 1))
        }
        for i in 1..<max(session.symbols.count, 1) { addBigram(i - 1, i, &session) }
        while let bigram = session.queue.pop() {
            let left = session.symbols[bigram.left], right = session.symbols[bigram.right]
            if left.length == 0 || right.length == 0 || left.id != bigram.leftID || right.id != bigram.rightID { continue }
            session.symbols[bigram.left].length += right.length
            session.symbols[bigram.left].id = bigram.result
            session.symbols[bigram.right].length = 0
            session.symbols[bigram.left].next = right.next
            if right.next >= 0 { session.symbols[right.next].prev = bigram.left }
            addBigram(left.prev, bigram.left, &session)
            addBigram(bigram.left, right.next, &session)
        }
        for symbol in session.symbols where symbol.length > 0 {
            if symbol.id >= 0 && Int(symbol.id) < vocabulary.count {
                output.append(symbol.id)
            } else {
                for position in symbol.start..<(symbol.start + symbol.length) {
                    let id = byteSymbols[Int(text[position])]
                    if id >= 0 && Int(id) < vocabulary.count { output.append(id) }
                }
            }
        }
    }

    @inline(__always)
    private func addBigram(_ left: Int, _ right: Int, _ session: inout Session) {
        guard left >= 0, right >= 0 else { return }
        let leftID = session.symbols[left].id, rightID = session.symbols[right].id
        guard leftID >= 0, rightID >= 0 else { return }
        let key = UInt64(UInt32(bitPattern: leftID)) << 32 | UInt64(UInt32(bitPattern: rightID))
        guard let merge = merges[key] else { return }
        session.queue.push(Bigram(left: left, right: right, leftID: leftID, rightID: rightID,
                                  rank: merge.rank, result: merge.result))
    }
}
