import Foundation

/// Progress for long commands: a bar redrawn in place on a terminal; on a pipe
/// (CI, Lambda logs) one plain line per tenth of the work, so logs stay short.
final class TerminalProgress: @unchecked Sendable {
    private let label: String
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let started = Date()
    private var lastTenth = -1
    private var lastDraw = Date.distantPast
    private let lock = NSLock()

    init(label: String) { self.label = label }

    func update(done: Int, total: Int, detail: String = "") {
        lock.withLock {
            let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
            let elapsed = Date().timeIntervalSince(started)
            let rate = elapsed > 0 ? Double(done) / elapsed / 1e6 : 0
            if isTerminal {
                guard Date().timeIntervalSince(lastDraw) > 0.1 || done >= total else { return }
                lastDraw = Date()
                let width = 30, filled = Int(fraction * Double(width))
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                let eta = rate > 0 ? Double(total - done) / 1e6 / rate : 0
                let line = String(format: "\r%@ [%@] %3.0f%% %.0f MB/s ETA %.0fs %@\u{1B}[K",
                                  label, bar, fraction * 100, rate, eta, detail)
                FileHandle.standardError.write(Data(line.utf8))
            } else {
                let tenth = Int(fraction * 10)
                guard tenth > lastTenth else { return }
                lastTenth = tenth
                let line = String(format: "%@: %3.0f%% (%.0f MB/s)\n", label, fraction * 100, rate)
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
