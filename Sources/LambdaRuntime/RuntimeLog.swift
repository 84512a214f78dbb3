/// Structured logs for CloudWatch: one JSON object per line (level, request id, the
/// invocation's figures) and Embedded Metric Format lines that CloudWatch turns into
/// metrics without an API call. Prompt and answer text are never logged: they can be
/// private, and a log line is not the place to decide that.
import Foundation
import Generation
import Serving

public final class RuntimeLog: @unchecked Sendable {
    public enum Level: String, Sendable { case debug = "DEBUG", info = "INFO", warn = "WARN", error = "ERROR" }

    /// EMF namespace and the function-name dimension.
    public static let metricNamespace = "LambdaLLM"

    private let functionName: String
    private let sink: @Sendable (String) -> Void
    private let lock = NSLock()
    /// Set while an invocation runs, so every line it writes carries its id.
    private var requestID: String?

    public init(functionName: String, sink: @escaping @Sendable (String) -> Void = RuntimeLog.standardOutput) {
        self.functionName = functionName
        self.sink = sink
    }

    /// Lambda captures stdout line by line; one write per line keeps lines whole.
    public static let standardOutput: @Sendable (String) -> Void = { line in
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    public func begin(requestID: String) { lock.withLock { self.requestID = requestID } }
    public func end() { lock.withLock { requestID = nil } }

    public func log(_ level: Level, _ message: String, _ fields: [(String, JSONText)] = []) {
        let id = lock.withLock { requestID }
        var members: [(String, JSONText)] = [
            ("timestamp", .string(Self.timestamp())),
            ("level", .string(level.rawValue)),
        ]
        if let id { members.append(("requestId", .string(id))) }
        members.append(("message", .string(message)))
        members += fields
        sink(JSONText.object(members).text)
    }

    /// The summary line of one answered request.
    public func invocation(route: String, status: Int, promptTokens: Int, result: GenerationResult?, streamed: Bool) {
        var fields: [(String, JSONText)] = [
            ("route", .string(route)),
            ("status", .int(status)),
            ("streamed", .bool(streamed)),
            ("promptTokens", .int(promptTokens)),
        ]
        if let result {
            let t = result.timings
            fields += [
                ("completionTokens", .int(result.tokens.count)),
                ("ttftMs", .double(Self.rounded(t.timeToFirstTokenSeconds * 1000))),
                ("tokensPerSecond", .double(Self.rounded(t.decodeTokensPerSecond))),
                ("prefillTokensPerSecond", .double(Self.rounded(t.prefillTokensPerSecond))),
                ("durationMs", .double(Self.rounded(t.totalSeconds * 1000))),
                ("finishReason", .string(result.finishReason.rawValue)),
                ("deadlineReached", .bool(result.deadlineReached)),
            ]
        }
        log(status >= 500 ? .error : (status >= 400 ? .warn : .info), "invocation", fields)
        if let result { metrics(result) }
    }

    /// CloudWatch Embedded Metric Format: the `_aws` block declares which top-level
    /// fields are metrics; CloudWatch extracts them from the log line.
    func metrics(_ result: GenerationResult) {
        let t = result.timings
        let id = lock.withLock { requestID }
        var members: [(String, JSONText)] = [
            ("_aws", .object([
                ("Timestamp", .int(Int(Date().timeIntervalSince1970 * 1000))),
                ("CloudWatchMetrics", .array([.object([
                    ("Namespace", .string(Self.metricNamespace)),
                    ("Dimensions", .array([.array([.string("FunctionName")])])),
                    ("Metrics", .array([
                        .object([("Name", .string("TimeToFirstToken")), ("Unit", .string("Milliseconds"))]),
                        .object([("Name", .string("DecodeTokensPerSecond")), ("Unit", .string("Count/Second"))]),
                        .object([("Name", .string("CompletionTokens")), ("Unit", .string("Count"))]),
                    ])),
                ])])),
            ])),
            ("FunctionName", .string(functionName)),
            ("TimeToFirstToken", .double(Self.rounded(t.timeToFirstTokenSeconds * 1000))),
            ("DecodeTokensPerSecond", .double(Self.rounded(t.decodeTokensPerSecond))),
            ("CompletionTokens", .int(result.tokens.count)),
        ]
        if let id { members.append(("requestId", .string(id))) }
        sink(JSONText.object(members).text)
    }

    static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
