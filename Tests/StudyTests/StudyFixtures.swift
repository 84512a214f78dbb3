import Foundation
import Study

/// A hand-written study of a Llama-2-7B-sized model on a two-thread machine: FP16 does not
/// fit Lambda, INT8 fits and stays close to FP16, INT4-sym fits, is cheapest and drifts
/// (KL 0.148 > 0.1). Verdicts are written out, not planned, so these tests test rendering only.
enum StudyFixtures {
    static func results(synthetic: Bool = false) -> StudyResults {
        var results = StudyResults(
            createdAt: "2026-03-01T12:00:00Z",
            machine: MachineDescription(
                cpuModel: "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", cores: 2, memoryBytes: 16_000_000_000,
                operatingSystem: "Ubuntu 24.04.1 LTS, kernel 6.8.0", architecture: "x86_64", kernelISA: "avx512vnni",
                commit: "abc1234"
            ),
            settings: StudySettings(
                types: ["f16", "int8", "int4-sym"], threadCounts: [1, 2], promptTokens: 128, genTokens: 128,
                repetitions: 3, corpus: synthetic ? nil : "/assets/corpus/prideprejudice.txt",
                evalTokens: synthetic ? 0 : 1024, s3MegabytesPerSecond: 100, lambdaMemoryMB: nil
            ),
            source: SourceDescription(
                path: synthetic ? "models/synthetic-llama-2-7b" : "models/llama-2-7b.Q4_1.gguf",
                bytes: 4_240_000_000, format: synthetic ? "Hugging Face safetensors directory" : "GGUF, mostly Q4_1",
                synthetic: synthetic,
                notes: ["FP16 is an exact dequantisation of Q4_1, not the original checkpoint."]
            ),
            variants: [fp16, int8, int4]
        )
        if synthetic {
            for i in results.variants.indices { results.variants[i].accuracy?.meaningful = false }
        }
        results.conclusion = "Computed conclusion goes here."
        return results
    }

    static let fp16 = VariantResult(
        type: "f16", studyName: "FP16", file: "models/k-f16.gguf", fileBytes: 13_478_000_000, conversionSeconds: 312.4,
        runs: [
            ThreadRun(threads: 1, loadSeconds: 6.2, timeToFirstTokenSeconds: 28.4, prefillTokensPerSecond: 4.51,
                      decodeTokensPerSecond: 0.92, decodeTokensPerSecondSpread: [0.9, 0.94], requestSeconds: 167.5,
                      peakRSSBytes: 13_840_000_000),
            ThreadRun(threads: 2, loadSeconds: 5.9, timeToFirstTokenSeconds: 14.8, prefillTokensPerSecond: 8.65,
                      decodeTokensPerSecond: 1.71, decodeTokensPerSecondSpread: [1.68, 1.74], requestSeconds: 89.6,
                      peakRSSBytes: 13_906_000_000),
        ],
        accuracy: AccuracyResult(tokens: 1024, perplexity: 7.12, reference: "f16", meanKLDivergence: 0,
                                 top1Agreement: 1, meaningful: true),
        verdict: LambdaVerdict(
            fitsEphemeralStorage: false, ephemeralStorageMB: nil, memoryMB: nil, memoryMargin: "peak RSS x 1.10 + 64 MB",
            vcpusAtMemory: nil, visibleCoresAtMemory: nil, decodeTokensPerSecondAtMemory: nil, requestSecondsAtMemory: nil,
            decodeTokensPerSecondAtMaximum: nil, requestSecondsAtMaximum: nil,
            scalingModel: "decode and prefill scale linearly with vCPUs from the 1- and 2-thread runs",
            fitsTimeout: false, downloadSeconds: 128.5, coldStartS3Seconds: 134.4, coldStartImageSeconds: 5.9,
            initWithinLimit: false, costPer1000RequestsX86: nil, costPer1000RequestsArm64: nil,
            containerImageBytes: 13_560_000_000, fitsContainerImage: false, fitsZip: false, deployable: false,
            summary: "does not fit: peak RSS 13.91 GB exceeds 10,240 MB"
        )
    )

    static let int8 = VariantResult(
        type: "int8", studyName: "INT8", file: "models/k-int8.gguf", fileBytes: 7_160_000_000, conversionSeconds: 95.1,
        runs: [
            ThreadRun(threads: 1, loadSeconds: 3.1, timeToFirstTokenSeconds: 16.2, prefillTokensPerSecond: 7.9,
                      decodeTokensPerSecond: 1.85, decodeTokensPerSecondSpread: [1.8, 1.9], requestSeconds: 85.4,
                      peakRSSBytes: 7_820_000_000),
            ThreadRun(threads: 2, loadSeconds: 2.9, timeToFirstTokenSeconds: 8.4, prefillTokensPerSecond: 15.2,
                      decodeTokensPerSecond: 3.4, decodeTokensPerSecondSpread: [3.3, 3.5], requestSeconds: 46.1,
                      peakRSSBytes: 7_870_000_000),
        ],
        accuracy: AccuracyResult(tokens: 1024, perplexity: 7.14, reference: "f16", meanKLDivergence: 0.0021,
                                 top1Agreement: 0.981, meaningful: true),
        verdict: LambdaVerdict(
            fitsEphemeralStorage: true, ephemeralStorageMB: 7_000, memoryMB: 8_321, memoryMargin: "peak RSS x 1.10 + 64 MB",
            vcpusAtMemory: 4.70, visibleCoresAtMemory: 5, decodeTokensPerSecondAtMemory: 7.9, requestSecondsAtMemory: 19.8,
            decodeTokensPerSecondAtMaximum: 9.6, requestSecondsAtMaximum: 16.4,
            scalingModel: "decode and prefill scale linearly with vCPUs from the 1- and 2-thread runs",
            fitsTimeout: true, downloadSeconds: 68.3, coldStartS3Seconds: 71.2, coldStartImageSeconds: 2.9,
            initWithinLimit: false, costPer1000RequestsX86: 2.6818, costPer1000RequestsArm64: 2.1455,
            containerImageBytes: 7_240_000_000, fitsContainerImage: true, fitsZip: false, deployable: true,
            summary: "fits: 8,321 MB memory, 7,000 MB /tmp, 19.8 s per request"
        )
    )

    static let int4 = VariantResult(
        type: "int4-sym", studyName: "INT4-sym", file: "models/k-int4-sym.gguf", fileBytes: 3_920_000_000,
        conversionSeconds: nil,
        runs: [
            ThreadRun(threads: 1, loadSeconds: 1.8, timeToFirstTokenSeconds: 11.9, prefillTokensPerSecond: 10.8,
                      decodeTokensPerSecond: 3.1, decodeTokensPerSecondSpread: [3.0, 3.2], requestSeconds: 53.2,
                      peakRSSBytes: 4_310_000_000),
            ThreadRun(threads: 2, loadSeconds: 1.7, timeToFirstTokenSeconds: 6.2, prefillTokensPerSecond: 20.6,
                      decodeTokensPerSecond: 5.7, decodeTokensPerSecondSpread: [5.5, 5.9], requestSeconds: 28.7,
                      peakRSSBytes: 4_350_000_000),
        ],
        accuracy: AccuracyResult(tokens: 1024, perplexity: 7.61, reference: "f16", meanKLDivergence: 0.148,
                                 top1Agreement: 0.902, meaningful: true),
        verdict: LambdaVerdict(
            fitsEphemeralStorage: true, ephemeralStorageMB: 3_800, memoryMB: 4_420, memoryMargin: "peak RSS x 1.10 + 64 MB",
            vcpusAtMemory: 2.50, visibleCoresAtMemory: 3, decodeTokensPerSecondAtMemory: 6.8, requestSecondsAtMemory: 24.6,
            decodeTokensPerSecondAtMaximum: 12.9, requestSecondsAtMaximum: 12.1,
            scalingModel: "decode and prefill scale linearly with vCPUs from the 1- and 2-thread runs",
            fitsTimeout: true, downloadSeconds: 37.4, coldStartS3Seconds: 39.1, coldStartImageSeconds: 1.7,
            initWithinLimit: false, costPer1000RequestsX86: 1.7699, costPer1000RequestsArm64: 1.4160,
            containerImageBytes: 4_000_000_000, fitsContainerImage: true, fitsZip: false, deployable: true,
            summary: "fits: 4,420 MB memory, 3,800 MB /tmp, 24.6 s per request"
        )
    )
}

/// Splits RFC 4180 text into records of fields: quoted fields may hold commas, quotes
/// (doubled) and line breaks. Written for the tests, so they do not trust the writer's quoting.
enum CSVText {
    static func records(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text).makeIterator()
        var pending: Character? = nil
        func next() -> Character? {
            if let p = pending { pending = nil; return p }
            return chars.next()
        }
        while let c = next() {
            if quoted {
                if c == "\"" {
                    if let after = next() {
                        if after == "\"" { field.append("\"") } else { quoted = false; pending = after }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"": quoted = true
            case ",": record.append(field); field = ""
            case "\r\n", "\n":
                record.append(field); field = ""
                records.append(record); record = []
            default: field.append(c)
            }
        }
        if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
        return records
    }
}
