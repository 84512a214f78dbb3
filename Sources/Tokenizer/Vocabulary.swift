#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Token attributes as llama.cpp derives them from `tokenizer.ggml.token_type`
/// (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte) plus the
/// strip flags it sets by model name.
struct TokenAttributes: OptionSet, Sendable {
    let rawValue: UInt16
    static let normal = TokenAttributes(rawValue: 1 << 0)
    static let unknown = TokenAttributes(rawValue: 1 << 1)
    static let control = TokenAttributes(rawValue: 1 << 2)
    static let userDefined = TokenAttributes(rawValue: 1 << 3)
    static let unused = TokenAttributes(rawValue: 1 << 4)
    static let byte = TokenAttributes(rawValue: 1 << 5)
    static let leftStrip = TokenAttributes(rawValue: 1 << 6)
    static let rightStrip = TokenAttributes(rawValue: 1 << 7)

    static let hiddenUnlessSpecial: TokenAttributes = [.unknown, .control]

    init(rawValue: UInt16) { self.rawValue = rawValue }

    init(tokenType: Int) {
        switch tokenType {
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: self = []
        }
    }
}

/// What both tokenizer kinds share: token texts and attributes, the special ids,
/// splitting text around special tokens, and turning ids back into bytes.
struct Vocabulary: Sendable {
    enum Kind: Sendable { case sentencePiece, bytePair }

    let kind: Kind
    /// Token texts as stored in the file, concatenated; `textStart[id]..<textStart[id+1]`.
    let texts: [UInt8]
    let textStart: [Int]
    var attributes: [TokenAttributes]
    /// Decoded bytes of each token as llama.cpp's `token_to_piece(special: true)` gives them.
    private(set) var pieces: [UInt8] = []
    private(set) var pieceStart: [Int] = []

    var bos: Int32?
    var eos: Int32?
    var eot: Int32?
    var eom: Int32?
    var endOfGeneration: Set<Int32> = []
    var addBOS: Bool
    var addEOS: Bool
    var addSpacePrefix: Bool
    var cleanSpaces: Bool
    /// Control, user-defined and unknown tokens, longest text first: the order in
    /// which llama.cpp carves them out of the input.
    private(set) var specialTokens: [Int32] = []

    var count: Int { attributes.count }

    init(kind: Kind, tokens: [String], tokenTypes: [Int]?, addBOS: Bool, addEOS: Bool,
         addSpacePrefix: Bool, cleanSpaces: Bool) {
        self.kind = kind
        var texts: [UInt8] = []
        var starts: [Int] = []
        starts.reserveCapacity(tokens.count + 1)
        for token in tokens {
            starts.append(texts.count)
            texts.append(contentsOf: token.utf8)
        }
        starts.append(texts.count)
        self.texts = texts
        self.textStart = starts
        self.attributes = (0..<tokens.count).map { i in
            tokenTypes.map { TokenAttributes(tokenType: $0[i]) } ?? .normal
        }
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.cleanSpaces = cleanSpaces
    }

    func text(_ id: Int) -> ArraySlice<UInt8> { texts[textStart[id]..<textStart[id + 1]] }

    func isValid(_ id: Int32) -> Bool { id >= 0 && Int(id) < count }

    /// Applies llama.cpp's name-based fix-ups, then builds the special-token list and
    /// the piece cache. Call once, after special ids are set.
    mutating func finish(tokenIDs: [String: Int32], modelName: String?, fimPad: Int32?, fimRepo: Int32?, fimSep: Int32?) {
        let endTexts: Set<String> = [
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
            "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
            "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
            "<｜end▁of▁sentence｜>", "[e~[",
        ]
        let eotTexts = [
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
            "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
        ]
        // llama.cpp walks an unordered map here, so which of several candidate texts
        // becomes EOT is unspecified; taking the lowest id keeps ours deterministic.
        if eot == nil {
            eot = eotTexts.compactMap { tokenIDs[$0] }.min()
            if let eot { attributes[Int(eot)].insert(.control) }
        }
        if eom == nil, let id = tokenIDs["<|eom_id|>"] {
            eom = id
            attributes[Int(id)].insert(.control)
        }
        for (text, id) in tokenIDs {
            let i = Int(id)
            if attributes[i].contains(.control) && text.contains("unused") { attributes[i].insert(.unused) }
            if endTexts.contains(text) {
                endOfGeneration.insert(id)
                attributes[i].insert(.control)
            }
        }
        for id in [eos, eot, eom, fimPad, fimRepo, fimSep] { if let id { endOfGeneration.insert(id) } }

        var special: [Int32] = []
        for id in 0..<count where !attributes[id].isDisjoint(with: [.control, .userDefined, .unknown]) {
            special.append(Int32(id))
        }
        special.sort { a, b in
            let la = textStart[Int(a) + 1] - textStart[Int(a)], lb = textStart[Int(b) + 1] - textStart[Int(b)]
            return la != lb ? la > lb : a < b
        }
        specialTokens = special

        if let name = modelName?.lowercased(), name.contains("phi-3") || name.contains("phi3") {
            for id in special { attributes[Int(id)].insert(.rightStrip) }
            if let id = tokenIDs["</s>"] { attributes[Int(id)].insert(.rightStrip) }
            for text in ["<unk>", "<s>", "<|endoftext|>"] {
                if let id = tokenIDs[text] { attributes[Int(id)].remove(.rightStrip) }
            }
        }
        buildPieces()
    }

    private mutating func buildPieces() {
        var pieces: [UInt8] = []
        var starts: [Int] = []
        pieces.reserveCapacity(texts.count)
        starts.reserveCapacity(count + 1)
        let space: [UInt8] = [0xE2, 0x96, 0x81]
        for id in 0..<count {
            starts.append(pieces.count)
            let attr = attributes[id]
            let raw = text(id)
            if !attr.isDisjoint(with: [.unknown, .control, .userDefined]) {
                pieces.append(contentsOf: raw)
            } else if attr.contains(.normal) {
                switch kind {
                case .sentencePiece:
                    var i = raw.startIndex
                    while i < raw.endIndex {
                        if raw[i] == space[0] && i + 2 < raw.endIndex && raw[i + 1] == space[1] && raw[i + 2] == space[2] {
                            pieces.append(0x20)
                            i += 3
                        } else {
                            pieces.append(raw[i])
                            i += 1
                        }
                    }
                case .bytePair:
                    // A character outside GPT-2's byte alphabet passes through as UTF-8
                    // (llama.cpp writes an "[UNK_BYTE_...]" marker instead).
                    for scalar in String(decoding: raw, as: UTF8.self).unicodeScalars {
                        if let byte = ByteLevelEncoding.byte(for: scalar) {
                            pieces.append(byte)
                        } else {
                            pieces.append(contentsOf: String(scalar).utf8)
                        }
                    }
                }
            } else if attr.contains(.byte), let byte = Vocabulary.byteValue(of: raw, kind: kind) {
                pieces.append(byte)
            }
        }
        starts.append(pieces.count)
        self.pieces = pieces
        self.pieceStart = starts
    }

    /// The byte a byte-type token stands for: "<0xE2>" in SPM, one GPT-2 character in BPE.
    static func byteValue(of text: ArraySlice<UInt8>, kind: Kind) -> UInt8? {
        if text.count == 6, text.starts(with: Array("<0x".utf8)), text.last == UInt8(ascii: ">") {
            let hex = String(decoding: text.dropFirst(3).prefix(2), as: UTF8.self)
            return UInt8(hex, radix: 16)
        }
        if kind == .bytePair {
            let scalars = String(decoding: text, as: UTF8.self).unicodeScalars
            if scalars.count == 1, let scalar = scalars.first { return ByteLevelEncoding.byte(for: scalar) }
        }
        return nil
    }

    // MARK: Decoding

    func piece(_ id: Int32) -> ArraySlice<UInt8> {
        guard isValid(id) else { return [] }
        return pieces[pieceStart[Int(id)]..<pieceStart[Int(id) + 1]]
    }

    /// Appends the token's bytes as detokenize would, dropping one leading space when asked.
    @inline(__always)
    func appendPiece(_ id: Int32, skipSpecial: Bool, stripLeadingSpace: Bool, to out: inout [UInt8]) {
        guard isValid(id) else { return }
        if skipSpecial && !attributes[Int(id)].isDisjoint(with: .hiddenUnlessSpecial) { return }
        var bytes = pieces[pieceStart[Int(id)]..<pieceStart[Int(id) + 1]]
        if stripLeadingSpace && bytes.first == 0x20 { bytes = bytes.dropFirst() }
        out.append(contentsOf: bytes)
    }

    func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        var stripSpace = addSpacePrefix
        for id in ids {
            appendPiece(id, skipSpecial: skipSpecial, stripLeadingSpace: stripSpace, to: &bytes)
            stripSpace = false
        }
        if cleanSpaces { Vocabulary.cleanSpaces(&bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// llama.cpp's clean_spaces passes, in its order: drop the space before ? ! . ,;
    /// turn " ' " into "'"; drop the space before 's 'm 're 've.
    static func cleanSpaces(_ text: inout [UInt8]) {
        let space = UInt8(ascii: " "), quote = UInt8(ascii: "'")
        guard text.count > 1 else { return }
        var out: [UInt8] = [text[0]]
        out.reserveCapacity(text.count)
        for i in 1..<text.count {
            let x = text[i]
            if text[i - 1] == space && (x == UInt8(ascii: "?") || x == UInt8(ascii: "!") || x == UInt8(ascii: ".") || x == UInt8(ascii: ",")) {
                out.removeLast()
            }
            out.append(x)
        }
        var second: [UInt8] = out.isEmpty ? [] : [out[0]]
        var consumedSpace = false
        var i = 1
        while i < out.count {
            let x = out[i]
            let prevIsSpace = out[i - 1] == space && !consumedSpace
            consumedSpace = false
            if x == quote && i + 1 < out.count && prevIsSpace && out[i + 1] == space {
                second.removeLast()
                second.append(x)
                i += 2
                consumedSpace = true
                continue
            }
            second.append(x)
            i += 1
        }
        var third: [UInt8] = second.isEmpty ? [] : [second[0]]
        for i in second.indices.dropFirst() {
            let x = second[i]
            if second[i - 1] == space && x == quote && i + 1 < second.count {
                let x1 = second[i + 1]
                if x1 == UInt8(ascii: "s") || x1 == UInt8(ascii: "m") {
                    third.removeLast()
                } else if i + 2 < second.count {
                    let x2 = second[i + 2]
                    if (x1 == UInt8(ascii: "r") || x1 == UInt8(ascii: "v")) && x2 == UInt8(ascii: "e") {
                        third.removeLast()
                    }
                }
            }
            third.append(x)
        }
        text = third
    }

    // MARK: Special tokens in the input

    enum Fragment {
        case text(Range<Int>)
        case token(Int32)
    }

    /// llama.cpp's `tokenizer_st_partition`: for each special token, longest first,
    /// cut every occurrence out of the remaining text. Control and unknown tokens
    /// only when `parseSpecial`; user-defined ones always.
    func partition(_ bytes: [UInt8], parseSpecial: Bool) -> [Fragment] {
        guard !bytes.isEmpty else { return [] }
        var fragments: [Fragment] = [.text(0..<bytes.count)]
        var next: [Fragment] = []
        bytes.withUnsafeBufferPointer { input in
            texts.withUnsafeBufferPointer { all in
                for id in specialTokens {
                    let attr = attributes[Int(id)]
                    if !parseSpecial && !attr.isDisjoint(with: .hiddenUnlessSpecial) { continue }
                    let needle = UnsafeBufferPointer(rebasing: all[textStart[Int(id)]..<textStart[Int(id) + 1]])
                    guard let first = needle.first else { continue }
                    var found = false
                    next.removeAll(keepingCapacity: true)
                    for fragment in fragments {
                        guard case .text(let range) = fragment else { next.append(fragment); continue }
                        var start = range.lowerBound
                        var pos = start
                        let last = range.upperBound - needle.count
                        while pos <= last {
                            // memchr skips to the next candidate with SIMD; most special
                            // tokens start with "<", which plain text rarely contains.
                            guard let hit = memchr(input.baseAddress! + pos, Int32(first), last - pos + 1) else { break }
                            pos = input.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                            if memcmpEqual(input, pos, needle) {
                                found = true
                                var leftEnd = pos
                                if attr.contains(.leftStrip) {
                                    while leftEnd > start && isASCIISpace(input[leftEnd - 1]) { leftEnd -= 1 }
                                }
                                if leftEnd > start { next.append(.text(start..<leftEnd)) }
                                next.append(.token(id))
                                pos += needle.count
                                if attr.contains(.rightStrip) {
                                    while pos < range.upperBound && isASCIISpace(input[pos]) { pos += 1 }
                                }
                                start = pos
                            } else {
                                pos += 1
                            }
                        }
                        if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
                    }
                    if found { swap(&fragments, &next) }
                }
            }
        }
        return fragments
    }
}

@inline(__always)
private func memcmpEqual(_ haystack: UnsafeBufferPointer<UInt8>, _ at: Int, _ needle: UnsafeBufferPointer<UInt8>) -> Bool {
    for i in 0..<needle.count where haystack[at + i] != needle[i] { return false }
    return true
}

@inline(__always)
private func isASCIISpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (0x09...0x0D).contains(byte)
}
