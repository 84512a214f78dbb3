import Foundation
import Study
import Testing

@Suite struct BenchReportTests {
    @Test("bench's JSON decodes back to the same report the study reads")
    func roundTrip() throws {
        let report = BenchReport(
            model: "m.gguf", threads: 2, isa: "avx2", promptTokens: 128, genTokens: 128, loadSeconds: 0.1,
            timeToFirstTokenSeconds: 0.5, prefillTokensPerSecond: 200, decodeTokensPerSecond: 90,
            totalSeconds: 1.9, decodeTokensPerSecondSpread: [80, 95], peakRSSBytes: 150_000_000
        )
        let decoded = try JSONDecoder().decode(BenchReport.self, from: Data(report.json().utf8))
        #expect(decoded == report)
    }

    @Test("the median of an even count averages the middle two; empty gives 0")
    func median() {
        #expect(BenchReport.median([3, 1, 2]) == 2)
        #expect(BenchReport.median([4, 1, 3, 2]) == 2.5)
        #expect(BenchReport.median([]) == 0)
    }
}
