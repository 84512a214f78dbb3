/// Cuts a stream of decoded text at the first stop string, without ever showing
/// the stop string (or anything after it) to the reader.
///
/// Matching is on UTF-8 bytes, i.e. exact Unicode scalar sequences, not canonical
/// equivalence (a precomposed "é" does not match "e\u{301}"), as llama.cpp and the
/// OpenAI API do. Characters would be the wrong unit for a stream: a combining mark
/// in the next piece changes the previous Character. Bytes are safe to split at the
/// points chosen here: a held-back suffix always starts where a stop string starts,
/// and a valid UTF-8 stop string starts with a lead byte, so every emitted chunk is
/// whole scalars.
public struct StopSequenceMatcher: Sendable {
    private let stops: [[UInt8]]
    private let longestStop: Int
    /// Text that might be the start of a stop string; never longer than the longest
    /// stop string minus one byte between calls.
    private var pending: [UInt8] = []
    public private(set) var isStopped = false

    /// Empty stop strings are ignored (they would stop before the first byte).
    public init(stopStrings: [String]) {
        stops = stopStrings.filter { !$0.isEmpty }.map { Array($0.utf8) }
        longestStop = stops.map(\.count).max() ?? 0
        pending.reserveCapacity(longestStop * 2 + 64)
    }

    /// Adds the next decoded piece. `emit` is the text that can safely be shown now;
    /// `stopped` turns true once a stop string is complete, after which further
    /// pieces are ignored.
    public mutating func feed(_ piece: String) -> (emit: String, stopped: Bool) {
        if isStopped { return ("", true) }
        if stops.isEmpty { return (piece, false) }
        pending.append(contentsOf: piece.utf8)

        if let matchStart = firstCompleteMatch() {
            let emit = String(decoding: pending[..<matchStart], as: UTF8.self)
            pending.removeAll(keepingCapacity: true)
            isStopped = true
            return (emit, true)
        }
        let keepFrom = earliestPartialMatch()
        let emit = String(decoding: pending[..<keepFrom], as: UTF8.self)
        pending.removeSubrange(..<keepFrom)
        return (emit, false)
    }

    /// The held-back text, once generation ended without a stop string completing
    /// (e.g. on end-of-sequence or the token limit). Empty after a stop.
    public mutating func finish() -> String {
        defer { pending.removeAll(keepingCapacity: true) }
        return isStopped ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Start of the leftmost complete stop string in `pending`.
    private func firstCompleteMatch() -> Int? {
        var best: Int?
        for stop in stops where stop.count <= pending.count {
            let lastStart = pending.count - stop.count
            let limit = min(lastStart, (best ?? Int.max) - 1)
            guard limit >= 0 else { continue }
            for start in 0...limit where matches(stop, at: start, length: stop.count) {
                best = start
                break
            }
        }
        return best
    }

    /// Start of the longest suffix of `pending` that is a proper prefix of a stop
    /// string; `pending.count` when there is none.
    private func earliestPartialMatch() -> Int {
        let n = pending.count
        for start in max(0, n - longestStop + 1)..<n {
            let length = n - start
            for stop in stops where length < stop.count && matches(stop, at: start, length: length) {
                return start
            }
        }
        return n
    }

    @inline(__always)
    private func matches(_ stop: [UInt8], at start: Int, length: Int) -> Bool {
        for i in 0..<length where pending[start + i] != stop[i] { return false }
        return true
    }
}
