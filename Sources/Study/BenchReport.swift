import Foundation

/// What `lambda-llm bench --json` prints and the study reads back from its children:
/// one schema for both sides, so neither can drift from the other.
public struct BenchReport: Codable, Sendable, Equatable {
    public var model: String
    public var threads: Int
    public var isa: String
    public var promptTokens: Int
    public var genTokens: Int
    public var loadSeconds: Double
    /// Medians over the timed requests.
    public var timeToFirstTokenSeconds: Double
    public var prefillTokensPerSecond: Double
    public var decodeTokensPerSecond: Double
    public var totalSeconds: Double
    /// [min, max] of decode tokens/s over the timed requests.
    public var decodeTokensPerSecondSpread: [Double]
    /// The process's own peak RSS as it saw it (the study uses wait4's figure instead).
    public var peakRSSBytes: Int

    public init(model: String, threads: Int, isa: String, promptTokens: Int, genTokens: Int, loadSeconds: Double,
                timeToFirstTokenSeconds: Double, prefillTokensPerSecond: Double, decodeTokensPerSecond: Double,
                totalSeconds: Double, decodeTokensPerSecondSpread: [Double], peakRSSBytes: Int) {
        self.model = model
        self.threads = threads
        self.isa = isa
        self.promptTokens = promptTokens
        self.genTokens = genTokens
        self.loadSeconds = loadSeconds
        self.timeToFirstTokenSeconds = timeToFirstTokenSeconds
        self.prefillTokensPerSecond = prefillTokensPerSecond
        self.decodeTokensPerSecond = decodeTokensPerSecond
        self.totalSeconds = totalSeconds
        self.decodeTokensPerSecondSpread = decodeTokensPerSecondSpread
        self.peakRSSBytes = peakRSSBytes
    }

    public static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
