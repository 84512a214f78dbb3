import Foundation

/// Counters and histograms for GET /metrics, in Prometheus' text format (0.0.4).
/// Hand-written: a dozen series do not need a metrics framework.
public final class ServerMetrics: @unchecked Sendable {
    struct Histogram {
        let bounds: [Double]
        var counts: [Int]
        var sum = 0.0
        var count = 0
        init(bounds: [Double]) {
            self.bounds = bounds
            counts = Array(repeating: 0, count: bounds.count)
        }
        mutating func observe(_ value: Double) {
            for (i, bound) in bounds.enumerated() where value <= bound { counts[i] += 1 }
            sum += value
            count += 1
        }
    }

    private let lock = NSLock()
    private var requests: [String: Int] = [:]  // "route|status"
    private var promptTokens = 0
    private var generatedTokens = 0
    private var timeToFirstToken = Histogram(bounds: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])
    private var tokensPerSecond = Histogram(bounds: [1, 2, 5, 10, 20, 50, 100, 200, 500])
    private var queueDepth = 0

    public init() {}

    public func recordRequest(route: String, status: Int) {
        lock.withLock { requests["\(route)|\(status)", default: 0] += 1 }
    }

    public func recordGeneration(promptTokens prompt: Int, generatedTokens generated: Int, ttft: Double, decodeTokensPerSecond: Double) {
        lock.withLock {
            promptTokens += prompt
            generatedTokens += generated
            timeToFirstToken.observe(ttft)
            if generated > 1 { tokensPerSecond.observe(decodeTokensPerSecond) }
        }
    }

    public func setQueueDepth(_ depth: Int) { lock.withLock { queueDepth = depth } }

    public func render() -> String {
        lock.withLock {
            var out: [String] = []
            out.append("# HELP lambda_llm_requests_total HTTP requests by route and status.")
            out.append("# TYPE lambda_llm_requests_total counter")
            for key in requests.keys.sorted() {
                let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
                out.append("lambda_llm_requests_total{route=\"\(Self.escape(parts[0]))\",status=\"\(parts[1])\"} \(requests[key]!)")
            }
            out.append("# HELP lambda_llm_prompt_tokens_total Prompt tokens evaluated.")
            out.append("# TYPE lambda_llm_prompt_tokens_total counter")
            out.append("lambda_llm_prompt_tokens_total \(promptTokens)")
            out.append("# HELP lambda_llm_generated_tokens_total Tokens generated.")
            out.append("# TYPE lambda_llm_generated_tokens_total counter")
            out.append("lambda_llm_generated_tokens_total \(generatedTokens)")
            Self.render(timeToFirstToken, name: "lambda_llm_time_to_first_token_seconds", help: "Time to first token.", into: &out)
            Self.render(tokensPerSecond, name: "lambda_llm_decode_tokens_per_second", help: "Decode speed per request.", into: &out)
            out.append("# HELP lambda_llm_queue_depth Generations running or waiting.")
            out.append("# TYPE lambda_llm_queue_depth gauge")
            out.append("lambda_llm_queue_depth \(queueDepth)")
            return out.joined(separator: "\n") + "\n"
        }
    }

    private static func render(_ h: Histogram, name: String, help: String, into out: inout [String]) {
        out.append("# HELP \(name) \(help)")
        out.append("# TYPE \(name) histogram")
        for (bound, count) in zip(h.bounds, h.counts) { out.append("\(name)_bucket{le=\"\(bound)\"} \(count)") }
        out.append("\(name)_bucket{le=\"+Inf\"} \(h.count)")
        out.append("\(name)_sum \(h.sum)")
        out.append("\(name)_count \(h.count)")
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
