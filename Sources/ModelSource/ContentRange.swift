/// A Content-Range header ("bytes 0-9/1000"), checked before any byte of a
/// ranged response is written, so that a server answering a different range than
/// asked can never put bytes at the wrong offset.
struct ContentRange: Equatable {
    let start: Int64
    let end: Int64
    /// nil for "*" (unknown length).
    let total: Int64?

    init(start: Int64, end: Int64, total: Int64?) {
        self.start = start
        self.end = end
        self.total = total
    }

    init?(header: String) {
        let text = header.trimmingWhitespace()
        guard text.hasPrefix("bytes ") else { return nil }
        let spec = text.dropFirst("bytes ".count)
        guard let dash = spec.firstIndex(of: "-"), let slash = spec.firstIndex(of: "/"), dash < slash,
              let start = Int64(spec[..<dash]), let end = Int64(spec[spec.index(after: dash)..<slash]),
              start >= 0, end >= start
        else { return nil }
        let totalText = spec[spec.index(after: slash)...]
        if totalText == "*" {
            total = nil
        } else {
            guard let value = Int64(totalText), value > end else { return nil }
            total = value
        }
        self.start = start
        self.end = end
    }
}
