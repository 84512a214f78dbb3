/// Splits text into words before BPE merges, as the regexes llama.cpp selects from
/// `tokenizer.ggml.pre` do. No regex engine: each regex is a scanner over code
/// points that reproduces llama.cpp's own hand-written splitters (gpt2, llama3) or
/// its std::regex results (the digit and punctuation passes), including their
/// quirks at fragment ends. Several passes run in sequence, each splitting the
/// pieces of the previous one; unmatched gaps become pieces too.
enum PreTokenizer: Sendable, Equatable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`
    case gpt2
    /// Llama-3: case-insensitive contractions, `[^\r\n\p{L}\p{N}]?\p{L}+`, `\p{N}{1,3}`, ...
    case llama3
    /// `\p{N}` (every digit alone), then gpt2: SmolLM, StarCoder, Refact, Command-R.
    case digitsThenGPT2
    /// llama.cpp's fallback: punctuation runs, gpt2, `\p{N}+`, `[0-9][0-9][0-9]`.
    case fallback

    /// Word end offsets (in code points) of `scalars`, written to `ends`.
    func split(_ scalars: UnsafeBufferPointer<UInt32>, _ flags: UnsafeBufferPointer<UInt8>,
               ends: inout [Int], scratch: inout [Int]) {
        ends.removeAll(keepingCapacity: true)
        if scalars.isEmpty { return }
        ends.append(scalars.count)
        let scanner = Scanner(scalars: scalars, flags: flags)
        switch self {
        case .gpt2:
            scanner.pass(&ends, &scratch, scanner.gpt2)
        case .llama3:
            scanner.pass(&ends, &scratch, scanner.llama3)
        case .digitsThenGPT2:
            scanner.pass(&ends, &scratch) { scanner.isolate($0, $1, &$2, scanner.digit) }
            scanner.pass(&ends, &scratch, scanner.gpt2)
        case .fallback:
            scanner.pass(&ends, &scratch) { scanner.isolate($0, $1, &$2, scanner.punctuationRun) }
            scanner.pass(&ends, &scratch, scanner.gpt2)
            scanner.pass(&ends, &scratch) { scanner.isolate($0, $1, &$2, scanner.numberRun) }
            scanner.pass(&ends, &scratch) { scanner.isolate($0, $1, &$2, scanner.asciiDigitTriple) }
        }
    }
}

private struct Scanner {
    let scalars: UnsafeBufferPointer<UInt32>
    let flags: UnsafeBufferPointer<UInt8>

    static let outOfRange: UInt32 = 0xFFFF_FFFF

    /// Runs one pass over every current piece, replacing `ends` with the finer split.
    func pass(_ ends: inout [Int], _ scratch: inout [Int],
              _ body: (_ start: Int, _ end: Int, _ out: inout [Int]) -> Void) {
        scratch.removeAll(keepingCapacity: true)
        var start = 0
        for end in ends {
            body(start, end, &scratch)
            start = end
        }
        swap(&ends, &scratch)
    }

    // MARK: std::regex-style isolation: each match and each gap between matches is a piece.

    func isolate(_ start: Int, _ end: Int, _ out: inout [Int], _ match: (Int, Int) -> Int) {
        var pos = start, gap = start
        while pos < end {
            let length = match(pos, end)
            if length > 0 {
                if pos > gap { out.append(pos) }
                pos += length
                out.append(pos)
                gap = pos
            } else {
                pos += 1
            }
        }
        if gap < end { out.append(end) }
    }

    func digit(_ pos: Int, _ end: Int) -> Int { f(pos, end).contains(.number) ? 1 : 0 }

    func numberRun(_ pos: Int, _ end: Int) -> Int {
        var p = pos
        while f(p, end).contains(.number) { p += 1 }
        return p - pos
    }

    /// `[\p{P}\$\+<=>\^~\|]+` as llama.cpp collapses it: every ASCII punctuation or
    /// symbol except the backtick, plus non-ASCII punctuation.
    func punctuationRun(_ pos: Int, _ end: Int) -> Int {
        var p = pos
        while p < end {
            let c = scalars[p]
            let inClass: Bool
            if c < 128 {
                inClass = (0x21...0x2F).contains(c) || (0x3A...0x40).contains(c)
                    || (0x5B...0x5F).contains(c) || (0x7B...0x7E).contains(c)
            } else {
                let fl = CodepointFlags(rawValue: flags[p])
                inClass = fl.contains(.punctuation) && !fl.contains(.whitespace)
            }
            if !inClass { break }
            p += 1
        }
        return p - pos
    }

    func asciiDigitTriple(_ pos: Int, _ end: Int) -> Int {
        guard pos + 2 < end else { return 0 }
        for i in pos..<(pos + 3) where !(0x30...0x39).contains(scalars[i]) { return 0 }
        return 3
    }

    // MARK: llama.cpp's custom splitters

    @inline(__always) func c(_ pos: Int, _ end: Int) -> UInt32 { pos < end ? scalars[pos] : Scanner.outOfRange }
    @inline(__always) func f(_ pos: Int, _ end: Int) -> CodepointFlags {
        pos < end ? CodepointFlags(rawValue: flags[pos]) : []
    }

    private static let wordish: CodepointFlags = [.whitespace, .letter, .number]

    func gpt2(_ start: Int, _ end: Int, _ out: inout [Int]) {
        var prev = start
        func add(_ e: Int) { if e > prev { out.append(e) }; prev = e }
        var pos = start
        while pos < end {
            let cpt = scalars[pos]
            let flags = f(pos, end)
            if cpt == 0x27 && pos + 1 < end {  // 's|'t|'re|'ve|'m|'ll|'d
                let next = scalars[pos + 1]
                if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 {
                    add(pos + 2); pos += 2; continue
                }
                if pos + 2 < end {
                    let nn = scalars[pos + 2]
                    if (next == 0x72 && nn == 0x65) || (next == 0x76 && nn == 0x65) || (next == 0x6C && nn == 0x6C) {
                        add(pos + 3); pos += 3; continue
                    }
                }
            }
            let flags2 = cpt == 0x20 ? f(pos + 1, end) : flags
            if flags2.contains(.letter) {  // ' ?\p{L}+'
                if cpt == 0x20 { pos += 1 }
                while f(pos, end).contains(.letter) { pos += 1 }
                add(pos); continue
            }
            if flags2.contains(.number) {  // ' ?\p{N}+'
                if cpt == 0x20 { pos += 1 }
                while f(pos, end).contains(.number) { pos += 1 }
                add(pos); continue
            }
            if flags2.isDisjoint(with: Scanner.wordish) && !flags2.isEmpty {  // ' ?[^\s\p{L}\p{N}]+'
                if cpt == 0x20 { pos += 1 }
                while true {
                    let g = f(pos, end)
                    guard g.isDisjoint(with: Scanner.wordish) && !g.isEmpty else { break }
                    pos += 1
                }
                add(pos); continue
            }
            var spaces = 0
            while f(pos + spaces, end).contains(.whitespace) { spaces += 1 }
            if spaces > 1 && c(pos + spaces, end) != Scanner.outOfRange {  // \s+(?!\S)
                pos += spaces - 1
                add(pos); continue
            }
            if spaces > 0 {  // \s+
                pos += spaces
                add(pos); continue
            }
            pos += 1
            add(pos)
        }
    }

    func llama3(_ start: Int, _ end: Int, _ out: inout [Int]) {
        var prev = start
        func add(_ e: Int) { if e > prev { out.append(e) }; prev = e }
        @inline(__always) func lower(_ x: UInt32) -> UInt32 { (0x41...0x5A).contains(x) ? x + 0x20 : x }
        var pos = start
        while pos < end {
            let cpt = scalars[pos]
            let flags = f(pos, end)
            if cpt == 0x27 && pos + 1 < end {  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
                let next = lower(scalars[pos + 1])
                if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 {
                    add(pos + 2); pos += 2; continue
                }
                if pos + 2 < end {
                    let nn = lower(scalars[pos + 2])
                    if (next == 0x72 && nn == 0x65) || (next == 0x76 && nn == 0x65) || (next == 0x6C && nn == 0x6C) {
                        add(pos + 3); pos += 3; continue
                    }
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !(cpt == 0x0D || cpt == 0x0A || flags.contains(.number)) {
                if flags.contains(.letter) || f(pos + 1, end).contains(.letter) {
                    pos += 1
                    while f(pos, end).contains(.letter) { pos += 1 }
                    add(pos); continue
                }
            }
            if flags.contains(.number) {  // \p{N}{1,3}
                var first = pos
                while f(pos, end).contains(.number) {
                    pos += 1
                    if pos - first >= 3 { add(pos); first = pos }
                }
                add(pos); continue
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            var flags2 = cpt == 0x20 ? f(pos + 1, end) : flags
            if flags2.isDisjoint(with: Scanner.wordish) && !flags.isEmpty {
                if cpt == 0x20 { pos += 1 }
                while flags2.isDisjoint(with: Scanner.wordish) && !flags2.isEmpty {
                    pos += 1
                    flags2 = f(pos, end)
                }
                var cpt2 = c(pos, end)
                while cpt2 == 0x0D || cpt2 == 0x0A {
                    pos += 1
                    cpt2 = c(pos, end)
                }
                add(pos); continue
            }
            var spaces = 0
            var lastNewlineEnd = 0
            while f(pos + spaces, end).contains(.whitespace) {
                let cpt2 = c(pos + spaces, end)
                if cpt2 == 0x0D || cpt2 == 0x0A { lastNewlineEnd = pos + spaces + 1 }
                spaces += 1
            }
            if lastNewlineEnd > 0 {  // \s*[\r\n]+
                pos = lastNewlineEnd
                add(pos); continue
            }
            if spaces > 1 && c(pos + spaces, end) != Scanner.outOfRange {  // \s+(?!\S)
                pos += spaces - 1
                add(pos); continue
            }
            if spaces > 0 {  // \s+
                pos += spaces
                add(pos); continue
            }
            pos += 1
            add(pos)
        }
    }
}
