import Foundation
import Study
import Testing

@Suite struct StudyReportTests {
    /// The markdown lines of the table under `heading`, header and rule included.
    func table(_ markdown: String, under heading: String) -> [String] {
        let lines = markdown.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "## \(heading)") else { return [] }
        return Array(lines[(start + 1)...].drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") })
    }

    /// Cells of one table row, honouring `\|` escapes.
    func cells(_ row: String) -> [String] {
        var cells: [String] = []
        var cell = ""
        var escaped = false
        for c in row.dropFirst() {
            if escaped { cell.append(c); escaped = false; continue }
            switch c {
            case "\\": escaped = true; cell.append(c)
            case "|": cells.append(cell.trimmingCharacters(in: .whitespaces)); cell = ""
            default: cell.append(c)
            }
        }
        return cells
    }

    @Test("markdown names every variant and has the study's tables")
    func markdownHasVariantsAndTables() {
        let md = StudyReport.markdown(StudyFixtures.results())
        for v in StudyFixtures.results().variants {
            #expect(md.contains("\(v.studyName) (`\(v.type)`)"))
        }
        for heading in ["Storage", "Peak memory", "Execution time", "Accuracy", "Cold start", "Lambda verdict", "Conclusion"] {
            #expect(md.contains("\n## \(heading)\n"), "missing section \(heading)")
        }
        #expect(md.contains("Computed conclusion goes here."))
        #expect(md.contains("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz, 2 cores, 16.0 GB memory"))
        #expect(md.contains("commit abc1234"))
        #expect(md.contains("> FP16 is an exact dequantisation of Q4_1, not the original checkpoint."))
    }

    @Test("storage rows give bytes, decimal GB, GiB, ratio to the largest and reused conversions")
    func storageRows() throws {
        let rows = table(StudyReport.markdown(StudyFixtures.results()), under: "Storage")
        try #require(rows.count == 2 + 3)
        #expect(cells(rows[2]) == ["FP16 (`f16`)", "13,478,000,000", "13.48", "12.55", "1.00", "312.4"])
        #expect(cells(rows[4]) == ["INT4-sym (`int4-sym`)", "3,920,000,000", "3.92", "3.65", "0.29", "reused"])
    }

    @Test("execution rows show every thread count with the decode spread")
    func executionRows() {
        let rows = table(StudyReport.markdown(StudyFixtures.results()), under: "Execution time")
        #expect(rows.count == 2 + 6)
        #expect(rows.contains { cells($0) == ["INT8 (`int8`)", "2", "2.90", "8.40", "15.2", "3.40 (3.30–3.50)", "46.1"] })
        let memory = table(StudyReport.markdown(StudyFixtures.results()), under: "Peak memory")
        #expect(memory.contains { cells($0) == ["FP16 (`f16`)", "13.84", "13.91", "13.91", "1.03"] })
    }

    @Test("the verdict table shows memory with thousands separators and costs in dollars")
    func verdictRows() throws {
        let md = StudyReport.markdown(StudyFixtures.results())
        let rows = table(md, under: "Lambda verdict")
        #expect(rows.first?.contains("10,240 MB") == true)
        let int4 = rows.first { $0.hasPrefix("| INT4-sym") }.map(cells) ?? []
        try #require(int4.count == 15)
        #expect(int4.prefix(5) == ["INT4-sym (`int4-sym`)", "yes", "4,420", "3,800", "2.50 / 3"])
        #expect(int4[10...11] == ["$1.77", "$1.42"])
        #expect(md.contains("Scaling: decode and prefill scale linearly"))
        #expect(md.contains("Memory margin: peak RSS x 1.10 + 64 MB."))
        let cold = table(md, under: "Cold start")
        #expect(cold.first?.contains("S3 download at 100 MB/s") == true)
        #expect(cold.contains { cells($0) == ["INT8 (`int8`)", "68.3", "2.90", "71.2", "2.90", "no"] })
    }

    @Test("synthetic results carry the marker and n/a accuracy cells")
    func syntheticMarker() throws {
        let md = StudyReport.markdown(StudyFixtures.results(synthetic: true))
        #expect(md.contains("**synthetic weights: accuracy not meaningful**"))
        let rows = table(md, under: "Accuracy").dropFirst(2)
        #expect(rows.count == 3)
        for row in rows {
            try #require(cells(row).count == 5)
            #expect(cells(row)[1...3].allSatisfy { $0 == "n/a (synthetic weights)" })
        }
        let real = StudyReport.markdown(StudyFixtures.results())
        #expect(!real.contains("synthetic weights"))
        #expect(table(real, under: "Accuracy").contains { cells($0) == ["INT8 (`int8`)", "7.14", "0.0021", "98.1%", "1,024"] })
    }

    @Test("a synthetic study that scored no corpus says n/a (synthetic weights), not 'not measured'")
    func syntheticWithoutAccuracy() {
        var r = StudyFixtures.results()
        r.source.synthetic = true
        r.settings.corpus = nil
        for i in r.variants.indices { r.variants[i].accuracy = nil }
        let md = StudyReport.markdown(r)
        #expect(table(md, under: "Accuracy").contains { cells($0) == ["INT8 (`int8`)"] + Array(repeating: "n/a (synthetic weights)", count: 4) })
        #expect(!md.contains("not measured"))
        #expect(StudyConclusion.compose(r).contains("not meaningful (synthetic weights)"))
    }

    @Test("missing accuracy, verdicts and runs print placeholders instead of failing")
    func missingFigures() {
        var r = StudyFixtures.results()
        r.variants[1].accuracy = nil
        r.variants[1].verdict = nil
        r.variants[1].runs.removeAll { $0.threads == 2 }
        let md = StudyReport.markdown(r)
        #expect(table(md, under: "Accuracy").contains { cells($0) == ["INT8 (`int8`)"] + Array(repeating: "not measured", count: 4) })
        #expect(table(md, under: "Lambda verdict").contains { cells($0) == ["INT8 (`int8`)"] + Array(repeating: "—", count: 14) })
        #expect(table(md, under: "Execution time").contains { cells($0) == ["INT8 (`int8`)", "2", "—", "—", "—", "—", "—"] })
        #expect(table(md, under: "Peak memory").contains { cells($0) == ["INT8 (`int8`)", "7.82", "—", "7.82", "1.09"] })
    }

    @Test("pipes and line breaks in free text do not break table rows")
    func escapesPipes() {
        var r = StudyFixtures.results()
        r.variants[2].verdict?.summary = "fits | barely\nreally"
        let rows = table(StudyReport.markdown(r), under: "Lambda verdict")
        let int4 = rows.first { $0.hasPrefix("| INT4-sym") } ?? ""
        #expect(int4.contains("fits \\| barely really"))
        #expect(rows.allSatisfy { cells($0).count == 15 })
    }

    @Test("CSV has a header and one row per variant and thread count")
    func csvRowCount() {
        let r = StudyFixtures.results()
        let records = CSVText.records(StudyReport.csv(r))
        #expect(records.count == r.variants.count * r.settings.threadCounts.count + 1)
        #expect(Set(records.map(\.count)).count == 1)
    }

    @Test("CSV fields parse back to the exact figures, quoted text included")
    func csvParsesBack() throws {
        var r = StudyFixtures.results()
        r.variants[2].verdict?.summary = "fits, \"barely\"\nsecond line"
        let records = CSVText.records(StudyReport.csv(r))
        let header = try #require(records.first)
        func column(_ name: String) throws -> Int { try #require(header.firstIndex(of: name)) }
        let threads = try column("threads"), type = try column("type"), decode = try column("decode_tokens_per_second")
        let rss = try column("peak_rss_bytes"), kl = try column("mean_kl_divergence"), memory = try column("lambda_memory_mb")
        let summary = try column("lambda_summary"), conversion = try column("conversion_seconds")
        for row in records.dropFirst() {
            let v = try #require(r.variants.first { $0.type == row[type] })
            let run = try #require(v.runs.first { String($0.threads) == row[threads] })
            #expect(Double(row[decode]) == run.decodeTokensPerSecond)
            #expect(Int64(row[rss]) == run.peakRSSBytes)
            #expect(Double(row[kl]) == v.accuracy?.meanKLDivergence)
            #expect(row[memory] == (v.verdict?.memoryMB).map(String.init) ?? "")
            #expect(row[summary] == v.verdict?.summary)
            #expect(row[conversion] == (v.conversionSeconds.map { "\($0)" } ?? ""))
        }
    }

    @Test("JSON decodes back to equal results")
    func jsonRoundTrips() throws {
        let r = StudyFixtures.results(synthetic: true)
        let data = try StudyReport.json(r)
        #expect(try JSONDecoder().decode(StudyResults.self, from: data) == r)
        let text = String(decoding: data, as: UTF8.self)
        // Pretty-printed with sorted keys: diffs of two runs line up key by key.
        let topLevelKeys = text.components(separatedBy: "\n").filter { $0.hasPrefix("  \"") }
            .compactMap { $0.split(separator: "\"").dropFirst().first.map(String.init) }
        #expect(topLevelKeys.count == 7)
        #expect(topLevelKeys == topLevelKeys.sorted())
    }
}
