import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program to completion and reports what the study needs from it: exit
/// status, standard output, standard error and its peak resident memory (from wait4,
/// so it covers the child alone and nothing of ours).
public struct ChildProcess: Sendable {
    public struct Outcome: Sendable {
        public var exitCode: Int32
        /// Set when a signal ended the child (exitCode is then -1).
        public var signal: Int32?
        public var standardOutput: Data
        public var standardError: String
        public var peakRSSBytes: Int64
        public var seconds: Double
    }

    public enum Failure: Error, CustomStringConvertible {
        case cannotStart(String, errno: Int32)
        case failed(command: String, outcome: Outcome)

        public var description: String {
            switch self {
            case .cannotStart(let path, let code):
                return "cannot start \(path): \(String(cString: strerror(code)))"
            case .failed(let command, let outcome):
                let why = outcome.signal.map { "was killed by signal \($0)" } ?? "exited with status \(outcome.exitCode)"
                let tail = outcome.standardError.split(separator: "\n").suffix(5).joined(separator: "\n  ")
                return "\(command) \(why)" + (tail.isEmpty ? "" : ":\n  \(tail)")
            }
        }
    }

    public let executable: String
    public let arguments: [String]
    /// Lines of the child's standard error go here as they arrive (progress), besides being kept.
    public let onStandardErrorLine: (@Sendable (String) -> Void)?

    public init(executable: String, arguments: [String], onStandardErrorLine: (@Sendable (String) -> Void)? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.onStandardErrorLine = onStandardErrorLine
    }

    public var commandLine: String { ([executable] + arguments).joined(separator: " ") }

    /// Runs the child; throws `failed` unless it exits with status 0.
    @discardableResult
    public func run() throws(Failure) -> Outcome {
        let outcome = try launch()
        guard outcome.exitCode == 0 else { throw .failed(command: commandLine, outcome: outcome) }
        return outcome
    }

    /// Runs the child and returns however it ended.
    public func launch() throws(Failure) -> Outcome {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0 else { throw .cannotStart(executable, errno: errno) }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw .cannotStart(executable, errno: errno)
        }
        #if canImport(Glibc)
        var actions = posix_spawn_file_actions_t()
        #else
        var actions: posix_spawn_file_actions_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in [outPipe[0], errPipe[0], outPipe[1], errPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        let started = ContinuousClock.now
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        close(outPipe[1]); close(errPipe[1])
        guard spawned == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw .cannotStart(executable, errno: spawned)
        }

        // Drain both pipes at once so neither can fill up and stall the child.
        let errFD = errPipe[0]
        let relay = onStandardErrorLine
        let errorText = ErrorCollector()
        let reader = Thread {
            var pending = Data()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(errFD, &buffer, buffer.count)
                if n <= 0 { break }
                pending.append(contentsOf: buffer[0..<n])
                while let newline = pending.firstIndex(of: 10) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    errorText.append(line)
                    relay?(line)
                }
            }
            if !pending.isEmpty { errorText.append(String(decoding: pending, as: UTF8.self)) }
            errorText.finish()
        }
        reader.start()
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(outPipe[0], &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output.append(contentsOf: buffer[0..<n])
        }
        close(outPipe[0])

        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let text = errorText.wait()
        close(errFD)
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        // The wait status layout is POSIX's: low 7 bits = terminating signal, next byte = exit code.
        let signal = status & 0x7f
        #if os(Linux)
        let peak = Int64(usage.ru_maxrss) * 1024  // KiB on Linux
        #else
        let peak = Int64(usage.ru_maxrss)  // bytes on macOS
        #endif
        return Outcome(
            exitCode: signal == 0 ? (status >> 8) & 0xff : -1, signal: signal == 0 ? nil : signal,
            standardOutput: output, standardError: text, peakRSSBytes: peak, seconds: seconds
        )
    }

    /// The path of the running executable, so the study can run itself as children.
    public static func currentExecutable() -> String {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }
}

/// Standard error lines gathered on the reader thread, handed over once it ends.
private final class ErrorCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var lines: [String] = []
    private var done = false

    func append(_ line: String) {
        condition.lock()
        lines.append(line)
        condition.unlock()
    }

    func finish() {
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
    }

    func wait() -> String {
        condition.lock()
        while !done { condition.wait() }
        defer { condition.unlock() }
        return lines.joined(separator: "\n")
    }
}
