import Foundation
import LambdaLimits

/// Renders StudyResults as report.md (tables a reader compares with the seed study),
/// results.csv (every raw figure, one row per variant and thread count) and results.json
/// (the results themselves, for other tools). No figure is computed here beyond unit
/// conversion and ratios: the measuring and judging happened before.
public enum StudyReport {
    /// Lambda's largest memory setting, where the verdict's "at maximum" figures apply.
    static var maximumMemoryMB: Int { LambdaLimits.current.maxMemoryMB }
    /// Seconds Lambda allows the init phase before it counts against the first invocation.
    static var initPhaseSeconds: Double { LambdaLimits.current.initPhaseSeconds }

    // MARK: Markdown

    public static func markdown(_ r: StudyResults) -> String {
        let charts = Set(StudyCharts.all(r).map(\.fileName))
        var out: [String] = []
        out.append("# Quantization study: \(inline((r.source.path as NSString).lastPathComponent))")
        out.append("")
        out.append("Date: \(inline(r.createdAt))")
        out.append("")
        out.append(machineLine(r.machine))
        out.append("")
        out.append("**Source:** `\(inline(r.source.path))` (\(inline(r.source.format)), \(Figures.gb(r.source.bytes)) GB)")
        out.append("")
        for note in r.source.notes {
            out.append("> \(inline(note))")
            out.append("")
        }
        if r.source.synthetic {
            out.append("**synthetic weights: accuracy not meaningful**")
            out.append("")
        }
        out.append(settingsLine(r.settings))
        out.append("")

        section(&out, "Storage", storageTable(r), notes: [SeedStudy.storage], chart: "size.svg", charts: charts)
        section(&out, "Peak memory", memoryTable(r), notes: [SeedStudy.memory], chart: "memory.svg", charts: charts)
        section(&out, "Execution time", executionTable(r), notes: [SeedStudy.execution], chart: "latency.svg", charts: charts)
        if charts.contains("decode.svg") {
            out.append("![decode.svg](decode.svg)")
            out.append("")
        }
        section(&out, "Accuracy", accuracyTable(r), notes: accuracyNotes(r), chart: "accuracy.svg", charts: charts)
        section(&out, "Cold start", coldStartTable(r), notes: [], chart: nil, charts: charts)
        section(&out, "Lambda verdict", verdictTable(r), notes: verdictNotes(r), chart: nil, charts: charts)

        out.append("## Conclusion")
        out.append("")
        out.append(r.conclusion.isEmpty ? "—" : r.conclusion)
        out.append("")
        return out.joined(separator: "\n")
    }

    private static func section(_ out: inout [String], _ title: String, _ table: MarkdownTable, notes: [String],
                                chart: String?, charts: Set<String>) {
        out.append("## \(title)")
        out.append("")
        out.append(table.render())
        out.append("")
        for note in notes where !note.isEmpty {
            out.append(note)
            out.append("")
        }
        if let chart, charts.contains(chart) {
            out.append("![\(chart)](\(chart))")
            out.append("")
        }
    }

    private static func machineLine(_ m: MachineDescription) -> String {
        var parts = [
            inline(m.cpuModel), "\(m.cores) cores", "\(Figures.fixed(Double(m.memoryBytes) / 1e9, 1)) GB memory",
            inline(m.operatingSystem), inline(m.architecture), "kernels: \(inline(m.kernelISA))",
        ]
        parts.append("commit \(m.commit.map(inline) ?? "unknown")")
        return "**Machine:** " + parts.joined(separator: ", ")
    }

    private static func settingsLine(_ s: StudySettings) -> String {
        var line = "**Standard request:** \(s.promptTokens) prompt + \(s.genTokens) generated tokens; "
            + "\(s.repetitions) timed repetition\(s.repetitions == 1 ? "" : "s") after one warm-up, medians reported; "
            + "threads \(s.threadCounts.map(String.init).joined(separator: ", "))."
        if let corpus = s.corpus {
            line += " Accuracy on \(Figures.grouped(s.evalTokens)) tokens of `\(inline(corpus))`."
        }
        if let memory = s.lambdaMemoryMB {
            line += " Lambda memory setting requested: \(Figures.grouped(memory)) MB."
        }
        return line
    }

    static func variantCell(_ v: VariantResult) -> String { "\(v.studyName) (`\(v.type)`)" }

    /// The thread counts of the settings, then any a run has that the settings lack.
    static func threadCounts(_ r: StudyResults) -> [Int] {
        var counts = r.settings.threadCounts
        for v in r.variants { for run in v.runs where !counts.contains(run.threads) { counts.append(run.threads) } }
        return counts
    }

    private static func storageTable(_ r: StudyResults) -> MarkdownTable {
        let largest = r.variants.map(\.fileBytes).max() ?? 0
        var table = MarkdownTable(headers: ["Variant", "Bytes", "GB", "GiB", "Ratio to largest", "Conversion (s)"])
        for v in r.variants {
            table.rows.append([
                variantCell(v), Figures.grouped(v.fileBytes), Figures.gb(v.fileBytes), Figures.gib(v.fileBytes),
                largest > 0 ? Figures.fixed(Double(v.fileBytes) / Double(largest), 2) : "—",
                v.conversionSeconds.map(Figures.seconds) ?? "reused",
            ])
        }
        return table
    }

    private static func memoryTable(_ r: StudyResults) -> MarkdownTable {
        let counts = threadCounts(r)
        var table = MarkdownTable(headers: ["Variant"] + counts.map { "Peak RSS, \(Figures.threads($0)) (GB)" }
            + ["Peak RSS, max (GB)", "Peak RSS / file size"])
        for v in r.variants {
            var row = [variantCell(v)]
            for count in counts {
                row.append(v.runs.first { $0.threads == count }.map { Figures.gb($0.peakRSSBytes) } ?? "—")
            }
            let measured = !v.runs.isEmpty
            row.append(measured ? Figures.gb(v.peakRSSBytes) : "—")
            row.append(measured && v.fileBytes > 0 ? Figures.fixed(Double(v.peakRSSBytes) / Double(v.fileBytes), 2) : "—")
            table.rows.append(row)
        }
        return table
    }

    private static func executionTable(_ r: StudyResults) -> MarkdownTable {
        var table = MarkdownTable(headers: ["Variant", "Threads", "Load (s)", "TTFT (s)", "Prefill (tok/s)",
                                            "Decode (tok/s, min–max)", "Request (s)"])
        for count in threadCounts(r) {
            for v in r.variants {
                guard let run = v.runs.first(where: { $0.threads == count }) else {
                    table.rows.append([variantCell(v), String(count), "—", "—", "—", "—", "—"])
                    continue
                }
                var decode = Figures.rate(run.decodeTokensPerSecond)
                if let low = run.decodeTokensPerSecondSpread.min(), let high = run.decodeTokensPerSecondSpread.max() {
                    decode += " (\(Figures.rate(low))–\(Figures.rate(high)))"
                }
                table.rows.append([
                    variantCell(v), String(count), Figures.seconds(run.loadSeconds),
                    Figures.seconds(run.timeToFirstTokenSeconds), Figures.rate(run.prefillTokensPerSecond), decode,
                    Figures.seconds(run.requestSeconds),
                ])
            }
        }
        return table
    }

    private static func accuracyTable(_ r: StudyResults) -> MarkdownTable {
        let reference = r.variants.lazy.compactMap(\.accuracy).first.map { " vs `\($0.reference)`" } ?? ""
        var table = MarkdownTable(headers: ["Variant", "Perplexity", "Mean KL\(reference) (nats)", "Top-1 agreement",
                                            "Tokens scored"])
        for v in r.variants {
            guard let a = v.accuracy else {
                let cell = r.source.synthetic ? "n/a (synthetic weights)" : "not measured"
                table.rows.append([variantCell(v)] + Array(repeating: cell, count: 4))
                continue
            }
            let figures = a.meaningful
                ? [Figures.perplexity(a.perplexity), Figures.divergence(a.meanKLDivergence), Figures.percent(a.top1Agreement)]
                : Array(repeating: "n/a (synthetic weights)", count: 3)
            table.rows.append([variantCell(v)] + figures + [Figures.grouped(a.tokens)])
        }
        return table
    }

    private static func accuracyNotes(_ r: StudyResults) -> [String] {
        if r.settings.corpus == nil, r.variants.allSatisfy({ $0.accuracy == nil }) {
            return [r.source.synthetic
                ? "Synthetic weights: accuracy is not meaningful, so no corpus was scored (--eval-tokens scores one anyway)."
                : "No corpus was scored, so accuracy was not measured."]
        }
        return []
    }

    private static func coldStartTable(_ r: StudyResults) -> MarkdownTable {
        let speed = Figures.plain(r.settings.s3MegabytesPerSecond)
        var table = MarkdownTable(headers: [
            "Variant", "S3 download at \(speed) MB/s (s)", "Load (s)", "S3 cold start (s)", "Container image load (s)",
            "Within \(Figures.plain(initPhaseSeconds)) s init?",
        ])
        for v in r.variants {
            guard let verdict = v.verdict else {
                table.rows.append([variantCell(v), "—", "—", "—", "—", "—"])
                continue
            }
            table.rows.append([
                variantCell(v), Figures.seconds(verdict.downloadSeconds),
                Figures.seconds(max(0, verdict.coldStartS3Seconds - verdict.downloadSeconds)),
                Figures.seconds(verdict.coldStartS3Seconds), Figures.seconds(verdict.coldStartImageSeconds),
                Figures.yesNo(verdict.initWithinLimit),
            ])
        }
        return table
    }

    private static func verdictTable(_ r: StudyResults) -> MarkdownTable {
        let maximum = Figures.grouped(maximumMemoryMB)
        var table = MarkdownTable(headers: [
            "Variant", "Deployable", "Memory (MB)", "/tmp (MB)", "vCPUs / visible cores",
            "Decode at memory (tok/s)", "Request at memory (s)", "Decode at \(maximum) MB (tok/s)",
            "Request at \(maximum) MB (s)", "Timeout ok", "Per 1,000 requests, x86_64", "Per 1,000 requests, arm64",
            "Image < 10 GB", "Zip < 250 MB", "Summary",
        ], textColumns: [0, 14])
        for v in r.variants {
            guard let d = v.verdict else {
                table.rows.append([variantCell(v)] + Array(repeating: "—", count: 14))
                continue
            }
            let cpus: String
            switch (d.vcpusAtMemory, d.visibleCoresAtMemory) {
            case let (share?, cores?): cpus = "\(Figures.fixed(share, 2)) / \(cores)"
            case let (share?, nil): cpus = "\(Figures.fixed(share, 2)) / —"
            case let (nil, cores?): cpus = "— / \(cores)"
            case (nil, nil): cpus = "—"
            }
            table.rows.append([
                variantCell(v), Figures.yesNo(d.deployable), d.memoryMB.map(Figures.grouped) ?? "—",
                d.ephemeralStorageMB.map(Figures.grouped) ?? "—", cpus,
                d.decodeTokensPerSecondAtMemory.map(Figures.rate) ?? "—", d.requestSecondsAtMemory.map(Figures.seconds) ?? "—",
                d.decodeTokensPerSecondAtMaximum.map(Figures.rate) ?? "—", d.requestSecondsAtMaximum.map(Figures.seconds) ?? "—",
                Figures.yesNo(d.fitsTimeout), d.costPer1000RequestsX86.map(Figures.usd) ?? "—",
                d.costPer1000RequestsArm64.map(Figures.usd) ?? "—",
                "\(Figures.yesNo(d.fitsContainerImage)) (\(Figures.gb(d.containerImageBytes)) GB)", Figures.yesNo(d.fitsZip),
                d.summary,
            ])
        }
        return table
    }

    private static func verdictNotes(_ r: StudyResults) -> [String] {
        guard let d = r.variants.lazy.compactMap(\.verdict).first else { return ["No variant was judged."] }
        return ["Scaling: \(inline(d.scalingModel)). Memory margin: \(inline(d.memoryMargin))."]
    }

    /// Free text inside one line of markdown: a newline would end the paragraph or table row.
    private static func inline(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    // MARK: CSV

    private struct Column: Sendable {
        let name: String
        let value: @Sendable (VariantResult, ThreadRun?) -> String
    }

    private static func number(_ x: Double?) -> String { x.map { "\($0)" } ?? "" }
    private static func number(_ x: Int?) -> String { x.map(String.init) ?? "" }
    private static func number(_ x: Int64?) -> String { x.map(String.init) ?? "" }
    private static func flag(_ x: Bool?) -> String { x.map { $0 ? "true" : "false" } ?? "" }

    private static let columns: [Column] = [
        Column(name: "type") { v, _ in v.type },
        Column(name: "study_name") { v, _ in v.studyName },
        Column(name: "file") { v, _ in v.file },
        Column(name: "file_bytes") { v, _ in number(v.fileBytes) },
        Column(name: "conversion_seconds") { v, _ in number(v.conversionSeconds) },
        Column(name: "load_seconds") { _, run in number(run?.loadSeconds) },
        Column(name: "ttft_seconds") { _, run in number(run?.timeToFirstTokenSeconds) },
        Column(name: "prefill_tokens_per_second") { _, run in number(run?.prefillTokensPerSecond) },
        Column(name: "decode_tokens_per_second") { _, run in number(run?.decodeTokensPerSecond) },
        Column(name: "decode_tokens_per_second_min") { _, run in number(run?.decodeTokensPerSecondSpread.min()) },
        Column(name: "decode_tokens_per_second_max") { _, run in number(run?.decodeTokensPerSecondSpread.max()) },
        Column(name: "request_seconds") { _, run in number(run?.requestSeconds) },
        Column(name: "peak_rss_bytes") { _, run in number(run?.peakRSSBytes) },
        Column(name: "accuracy_tokens") { v, _ in number(v.accuracy?.tokens) },
        Column(name: "perplexity") { v, _ in number(v.accuracy?.perplexity) },
        Column(name: "accuracy_reference") { v, _ in v.accuracy?.reference ?? "" },
        Column(name: "mean_kl_divergence") { v, _ in number(v.accuracy?.meanKLDivergence) },
        Column(name: "top1_agreement") { v, _ in number(v.accuracy?.top1Agreement) },
        Column(name: "accuracy_meaningful") { v, _ in flag(v.accuracy?.meaningful) },
        Column(name: "lambda_deployable") { v, _ in flag(v.verdict?.deployable) },
        Column(name: "lambda_memory_mb") { v, _ in number(v.verdict?.memoryMB) },
        Column(name: "lambda_memory_margin") { v, _ in v.verdict?.memoryMargin ?? "" },
        Column(name: "lambda_fits_ephemeral_storage") { v, _ in flag(v.verdict?.fitsEphemeralStorage) },
        Column(name: "lambda_ephemeral_storage_mb") { v, _ in number(v.verdict?.ephemeralStorageMB) },
        Column(name: "lambda_vcpus") { v, _ in number(v.verdict?.vcpusAtMemory) },
        Column(name: "lambda_visible_cores") { v, _ in number(v.verdict?.visibleCoresAtMemory) },
        Column(name: "lambda_decode_tokens_per_second") { v, _ in number(v.verdict?.decodeTokensPerSecondAtMemory) },
        Column(name: "lambda_request_seconds") { v, _ in number(v.verdict?.requestSecondsAtMemory) },
        Column(name: "lambda_decode_tokens_per_second_at_max") { v, _ in number(v.verdict?.decodeTokensPerSecondAtMaximum) },
        Column(name: "lambda_request_seconds_at_max") { v, _ in number(v.verdict?.requestSecondsAtMaximum) },
        Column(name: "lambda_scaling_model") { v, _ in v.verdict?.scalingModel ?? "" },
        Column(name: "lambda_fits_timeout") { v, _ in flag(v.verdict?.fitsTimeout) },
        Column(name: "lambda_download_seconds") { v, _ in number(v.verdict?.downloadSeconds) },
        Column(name: "lambda_cold_start_s3_seconds") { v, _ in number(v.verdict?.coldStartS3Seconds) },
        Column(name: "lambda_cold_start_image_seconds") { v, _ in number(v.verdict?.coldStartImageSeconds) },
        Column(name: "lambda_init_within_limit") { v, _ in flag(v.verdict?.initWithinLimit) },
        Column(name: "lambda_cost_per_1000_x86_64_usd") { v, _ in number(v.verdict?.costPer1000RequestsX86) },
        Column(name: "lambda_cost_per_1000_arm64_usd") { v, _ in number(v.verdict?.costPer1000RequestsArm64) },
        Column(name: "lambda_container_image_bytes") { v, _ in number(v.verdict?.containerImageBytes) },
        Column(name: "lambda_fits_container_image") { v, _ in flag(v.verdict?.fitsContainerImage) },
        Column(name: "lambda_fits_zip") { v, _ in flag(v.verdict?.fitsZip) },
        Column(name: "lambda_summary") { v, _ in v.verdict?.summary ?? "" },
    ]

    /// Numbers are written in Swift's shortest round-trip form, so parsing gives back the
    /// exact measured values; missing figures are empty fields. Lines end in CRLF (RFC 4180).
    public static func csv(_ r: StudyResults) -> String {
        var lines = [(["threads"] + columns.map(\.name)).map(csvField).joined(separator: ",")]
        for count in threadCounts(r) {
            for v in r.variants {
                let run = v.runs.first { $0.threads == count }
                let fields = [String(count)] + columns.map { $0.value(v, run) }
                lines.append(fields.map(csvField).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: JSON

    /// Throws EncodingError when a figure is not finite (JSON has no NaN or infinity).
    public static func json(_ r: StudyResults) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(r)
    }
}

/// The published figures this study reproduces (Llama-2-7B under Intel OpenVINO), quoted
/// under our tables so a reader sees both without looking them up.
enum SeedStudy {
    static let storage = "Seed study, Llama-2-7B under OpenVINO, on disk: FP16 13.5 GB, INT8 6.8 GB, INT4 3.7 GB."
    static let memory = "Seed study, peak memory: FP16 13.84 GB, INT8 7.82 GB, INT4 5.25 GB."
    static let execution = "Seed study, execution time per request: FP16 13.92 s, INT8 7.64 s, INT4 6.79 s "
        + "(its own request and hardware: compare ratios between variants, not seconds)."
}

/// A GitHub-flavoured markdown table; every cell is escaped, so free text cannot break a row.
struct MarkdownTable {
    var headers: [String]
    var rows: [[String]] = []
    /// Columns of text; the others hold figures and align right.
    var textColumns: Set<Int> = [0]

    func render() -> String {
        let rule = headers.indices.map { textColumns.contains($0) ? "---" : "---:" }
        var lines = [line(headers), line(rule)]
        for row in rows { lines.append(line(row)) }
        return lines.joined(separator: "\n")
    }

    private func line(_ cells: [String]) -> String {
        "| " + cells.map(Self.escape).joined(separator: " | ") + " |"
    }

    static func escape(_ cell: String) -> String {
        cell.replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
    }
}

/// Text for figures, shared by the report, the conclusion and the charts: one precision
/// rule per kind of figure so the same number reads the same everywhere.
public enum Figures {
    /// Digits grouped by thousands with commas, independent of the machine's locale.
    public static func grouped<I: BinaryInteger>(_ value: I) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (value < 0 ? "-" : "") + out
    }

    static func fixed(_ value: Double, _ places: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "n/a" : (value > 0 ? "∞" : "-∞") }
        let text = String(format: "%.\(places)f", abs(value))
        let parts = text.split(separator: ".", maxSplits: 1)
        var out = parts.first.flatMap { UInt64($0) }.map { grouped($0) } ?? String(parts.first ?? "")
        if parts.count == 2 { out += "." + parts[1] }
        let isZero = !text.contains { $0 != "0" && $0 != "." }
        return (value < 0 && !isZero ? "-" : "") + out
    }

    /// Decimal gigabytes (10^9), as the seed study quotes sizes.
    static func gb(_ bytes: Int64) -> String { fixed(Double(bytes) / 1e9, 2) }
    static func gib(_ bytes: Int64) -> String { fixed(Double(bytes) / 1_073_741_824, 2) }

    /// Three significant figures or more: tenths above 10, whole numbers from 1,000.
    static func adaptive(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1000 { return fixed(value, 0) }
        if magnitude >= 10 { return fixed(value, 1) }
        if magnitude >= 0.1 || magnitude == 0 { return fixed(value, 2) }
        return fixed(value, 3)
    }

    static func seconds(_ value: Double) -> String { adaptive(value) }
    static func rate(_ value: Double) -> String { adaptive(value) }
    static func perplexity(_ value: Double) -> String { abs(value) >= 1000 ? fixed(value, 0) : fixed(value, 2) }

    /// KL divergences of good quantizations are thousandths of a nat: keep four decimals,
    /// and switch to exponent form below that so a tiny value never reads as zero.
    static func divergence(_ value: Double) -> String {
        if value == 0 { return "0" }
        if abs(value) < 0.0001 { return String(format: "%.1e", value) }
        return fixed(value, 4)
    }

    static func percent(_ fraction: Double) -> String { fixed(fraction * 100, 1) + "%" }

    static func usd(_ value: Double) -> String { "$" + (abs(value) < 1 ? fixed(value, 4) : fixed(value, 2)) }

    /// Integral values without decimals (100 MB/s), others with up to two (62.5 MB/s).
    static func plain(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 1e15 { return grouped(Int64(value)) }
        var text = fixed(value, 2)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    static func yesNo(_ value: Bool) -> String { value ? "yes" : "no" }

    static func threads(_ count: Int) -> String { "\(count) thread\(count == 1 ? "" : "s")" }
}
