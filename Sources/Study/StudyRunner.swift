import Foundation
import Kernels
import ModelFiles

/// Drives one study: converts the source to every requested type (reusing earlier
/// conversions), measures each variant in fresh child processes of this same binary
/// (`bench --json` per thread count, one `evaluate --json` for accuracy), and judges
/// every variant against Lambda's limits. It runs the real CLI, never a copy of the
/// engine, so the figures are what a user of the tool gets.
public struct StudyRunner: Sendable {
    public enum Source: Sendable, Equatable {
        /// A GGUF file or a Hugging Face model directory.
        case model(String)
        /// A `synthesize` preset (shapes of a real model, pseudo-random weights).
        case synthetic(String)
    }

    public struct Configuration: Sendable {
        public var source: Source
        public var types: [String]
        public var allLayers = false
        public var corpus: String?
        public var outputDirectory: String
        /// Converted variants and synthesized checkpoints; reused across runs.
        public var modelsDirectory: String
        public var threadCounts: [Int]
        public var promptTokens = 128
        public var genTokens = 128
        public var repetitions = 3
        /// 0 skips accuracy.
        public var evalTokens = 1024
        public var evalWindow = 256
        public var s3MegabytesPerSecond = 100.0
        public var lambdaMemoryMB: Int?
        /// This program: children run `<executable> bench|convert|evaluate|synthesize`.
        public var executable: String
        /// What a deployment of `executable` weighs, asked once every child has run (the
        /// answer may read the whole binary, and children started with posix_spawn report
        /// the parent's high-water RSS as their own maximum); nil, or no answer, counts the
        /// file as it is.
        public var deployedExecutableBytes: (@Sendable () -> Int64?)?

        public init(source: Source, types: [String], outputDirectory: String, modelsDirectory: String,
                    threadCounts: [Int], executable: String) {
            self.source = source
            self.types = types
            self.outputDirectory = outputDirectory
            self.modelsDirectory = modelsDirectory
            self.threadCounts = threadCounts
            self.executable = executable
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case child(ChildProcess.Failure)
        case unreadableOutput(command: String, reason: String)
        case sourceMissing(String)
        case cannotWrite(String, reason: String)

        public var description: String {
            switch self {
            case .child(let failure): return failure.description
            case .unreadableOutput(let command, let reason): return "\(command) printed output the study cannot read: \(reason)"
            case .sourceMissing(let path): return "\(path): no such model file or directory"
            case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason)"
            }
        }
    }

    /// Names the seed study used.
    public static let studyNames = ["f32": "FP32", "f16": "FP16", "bf16": "BF16", "int8": "INT8",
                                    "int4-sym": "INT4-sym", "int4-asym": "INT4-asym"]
    /// Highest precision first: the first requested one is the accuracy reference.
    public static let precisionOrder = ["f32", "f16", "bf16", "int8", "int4-asym", "int4-sym"]

    public let configuration: Configuration
    public let progress: @Sendable (String) -> Void

    public init(configuration: Configuration, progress: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.progress = progress
    }

    public func run() throws(Failure) -> StudyResults {
        let config = configuration
        try makeDirectory(config.outputDirectory)
        try makeDirectory(config.modelsDirectory)
        let sourcePath = try prepareSource()
        let key = SourceFingerprint.key(of: sourcePath)

        var variants: [VariantResult] = []
        for type in config.types {
            let name = "\(key)-\(type)\(config.allLayers ? "-all-layers" : "").gguf"
            let file = (config.modelsDirectory as NSString).appendingPathComponent(name)
            var seconds: Double?
            if FileManager.default.fileExists(atPath: file) {
                progress("convert \(type): reusing \(file)")
            } else {
                progress("convert \(type) -> \(file)")
                var arguments = ["convert", sourcePath, "-o", file, "--type", type]
                if config.allLayers { arguments.append("--all-layers") }
                seconds = try child(arguments, relay: false).seconds
            }
            variants.append(VariantResult(
                type: type, studyName: Self.studyNames[type] ?? type, file: file,
                fileBytes: Self.fileSize(file), conversionSeconds: seconds, runs: [], accuracy: nil, verdict: nil
            ))
        }

        // Thread counts outermost, so slow drift of a shared machine spreads over all variants.
        var isa = "unknown"
        for threads in config.threadCounts {
            for index in variants.indices {
                progress("bench \(variants[index].type), \(threads) thread(s)")
                let (run, runISA) = try bench(variants[index].file, threads: threads)
                variants[index].runs.append(run)
                isa = runISA
            }
        }

        let synthetic = Self.isSynthetic(variants.first?.file)
        if config.evalTokens > 0, let corpus = config.corpus, !variants.isEmpty {
            try measureAccuracy(&variants, corpus: corpus, meaningful: !synthetic)
        }

        let executableBytes = config.deployedExecutableBytes?() ?? Self.fileSize(config.executable)
        for index in variants.indices {
            variants[index].verdict = verdict(for: variants[index], executableBytes: executableBytes)
        }
        var results = StudyResults(
            createdAt: ISO8601DateFormatter().string(from: Date()),
            machine: MachineProbe.describe(kernelISA: isa, executable: config.executable),
            settings: StudySettings(
                types: config.types, threadCounts: config.threadCounts, promptTokens: config.promptTokens,
                genTokens: config.genTokens, repetitions: config.repetitions,
                corpus: config.evalTokens > 0 ? config.corpus : nil, evalTokens: config.evalTokens,
                s3MegabytesPerSecond: config.s3MegabytesPerSecond, lambdaMemoryMB: config.lambdaMemoryMB
            ),
            source: describeSource(sourcePath, synthetic: synthetic),
            variants: variants
        )
        results.conclusion = StudyConclusion.compose(results)
        return results
    }

    /// Writes report.md, results.json, results.csv and the SVG charts; returns their paths.
    public func write(_ results: StudyResults) throws(Failure) -> [String] {
        var files: [(String, Data)] = [
            ("report.md", Data(StudyReport.markdown(results).utf8)),
            ("results.csv", Data(StudyReport.csv(results).utf8)),
        ]
        do { files.append(("results.json", try StudyReport.json(results))) } catch {
            throw .cannotWrite("results.json", reason: "\(error)")
        }
        for chart in StudyCharts.all(results) { files.append((chart.fileName, Data(chart.svg.utf8))) }
        var written: [String] = []
        for (name, data) in files {
            let path = (configuration.outputDirectory as NSString).appendingPathComponent(name)
            do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                throw .cannotWrite(path, reason: error.localizedDescription)
            }
            written.append(path)
        }
        return written
    }

    // MARK: Steps

    private func prepareSource() throws(Failure) -> String {
        switch configuration.source {
        case .model(let path):
            guard FileManager.default.fileExists(atPath: path) else { throw .sourceMissing(path) }
            return path
        case .synthetic(let preset):
            let directory = (configuration.modelsDirectory as NSString).appendingPathComponent("synthetic-\(preset)")
            if FileManager.default.fileExists(atPath: directory) {
                progress("synthesize \(preset): reusing \(directory)")
                return directory
            }
            // Synthesize beside the final name and rename: a directory under the final
            // name is always complete, so an interrupted run never gets reused.
            let partial = directory + ".partial"
            try? FileManager.default.removeItem(atPath: partial)
            progress("synthesize \(preset) -> \(directory)")
            try child(["synthesize", "--preset", preset, "-o", partial], relay: false)
            do { try FileManager.default.moveItem(atPath: partial, toPath: directory) } catch {
                throw .cannotWrite(directory, reason: error.localizedDescription)
            }
            return directory
        }
    }

    private func bench(_ file: String, threads: Int) throws(Failure) -> (ThreadRun, String) {
        let config = configuration
        let outcome = try child([
            "bench", "--model", file, "--threads", String(threads), "--prompt-tokens", String(config.promptTokens),
            "--gen-tokens", String(config.genTokens), "--repetitions", String(config.repetitions), "--json",
        ], relay: false)
        let b: BenchReport
        do { b = try JSONDecoder().decode(BenchReport.self, from: outcome.standardOutput) } catch {
            throw .unreadableOutput(command: "bench", reason: "\(error)")
        }
        let run = ThreadRun(
            threads: threads, loadSeconds: b.loadSeconds, timeToFirstTokenSeconds: b.timeToFirstTokenSeconds,
            prefillTokensPerSecond: b.prefillTokensPerSecond, decodeTokensPerSecond: b.decodeTokensPerSecond,
            decodeTokensPerSecondSpread: b.decodeTokensPerSecondSpread, requestSeconds: b.totalSeconds,
            peakRSSBytes: outcome.peakRSSBytes
        )
        return (run, b.isa)
    }

    private func measureAccuracy(_ variants: inout [VariantResult], corpus: String, meaningful: Bool) throws(Failure) {
        let config = configuration
        let ordered = variants.indices.sorted {
            (Self.precisionOrder.firstIndex(of: variants[$0].type) ?? 99) < (Self.precisionOrder.firstIndex(of: variants[$1].type) ?? 99)
        }
        guard let referenceIndex = ordered.first else { return }
        let others = ordered.dropFirst()
        progress("evaluate: \(config.evalTokens) tokens of \(corpus), reference \(variants[referenceIndex].type)")
        var arguments = ["evaluate", "--reference", variants[referenceIndex].file, "--corpus", corpus,
                         "--tokens", String(config.evalTokens), "--window", String(config.evalWindow),
                         "--threads", String(config.threadCounts.max() ?? 1), "--json"]
        for i in others { arguments += ["--model", variants[i].file] }
        let outcome = try child(arguments, relay: true)
        struct Row: Decodable { var perplexity: Double; var meanKLDivergence: Double; var top1Agreement: Double }
        struct Output: Decodable { var tokens: Int; var results: [Row] }
        let output: Output
        do { output = try JSONDecoder().decode(Output.self, from: outcome.standardOutput) } catch {
            throw .unreadableOutput(command: "evaluate", reason: "\(error)")
        }
        guard output.results.count == ordered.count else {
            throw .unreadableOutput(command: "evaluate", reason: "\(output.results.count) results for \(ordered.count) models")
        }
        for (row, index) in zip(output.results, ordered) {
            variants[index].accuracy = AccuracyResult(
                tokens: output.tokens, perplexity: row.perplexity, reference: variants[referenceIndex].type,
                meanKLDivergence: row.meanKLDivergence, top1Agreement: row.top1Agreement, meaningful: meaningful
            )
        }
    }

    private func verdict(for variant: VariantResult, executableBytes: Int64) -> LambdaVerdict? {
        guard let headline = variant.headlineRun else { return nil }
        var prefill: [Int: Double] = [:], decode: [Int: Double] = [:]
        for run in variant.runs {
            prefill[run.threads] = run.prefillTokensPerSecond
            decode[run.threads] = run.decodeTokensPerSecond
        }
        let input = VerdictInput(
            fileBytes: variant.fileBytes, peakRSSBytes: variant.peakRSSBytes, loadSeconds: headline.loadSeconds,
            prefillTokensPerSecond: prefill, decodeTokensPerSecond: decode,
            promptTokens: configuration.promptTokens, genTokens: configuration.genTokens,
            s3MegabytesPerSecond: configuration.s3MegabytesPerSecond,
            runtimeBytes: executableBytes + Self.baseLayerBytes,
            requestedMemoryMB: configuration.lambdaMemoryMB
        )
        return LambdaPlanner.verdict(for: input)
    }

    private func describeSource(_ path: String, synthetic: Bool) -> SourceDescription {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        var notes: [String] = []
        var format = "Hugging Face safetensors directory"
        var bytes: Int64 = 0
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            bytes = names.reduce(0) { $0 + Self.fileSize((path as NSString).appendingPathComponent($1)) }
        } else {
            bytes = Self.fileSize(path)
            format = "GGUF"
            if let file = try? GGUFFile(path: path) {
                var histogram: [GGMLType: Int] = [:]
                for tensor in file.tensors where tensor.shape.count >= 2 { histogram[tensor.type, default: 0] += 1 }
                if let dominant = histogram.max(by: { $0.value < $1.value })?.key {
                    format = "GGUF, mostly \(dominant.description)"
                    if dominant.isQuantized {
                        notes.append("The source is itself quantized (\(dominant.description)): every variant, FP16 included, is converted from those weights, so FP16 is an exact dequantisation of \(dominant.description) rather than the original checkpoint, and re-quantising onto another 4-bit grid measures worse than it would from a true FP16 checkpoint.")
                    }
                }
            }
        }
        return SourceDescription(path: path, bytes: bytes, format: format, synthetic: synthetic, notes: notes)
    }

    // MARK: Helpers

    @discardableResult
    private func child(_ arguments: [String], relay: Bool) throws(Failure) -> ChildProcess.Outcome {
        let progress = self.progress
        var relayLine: (@Sendable (String) -> Void)?
        if relay { relayLine = { @Sendable line in progress("  " + line) } }
        let process = ChildProcess(executable: configuration.executable, arguments: arguments, onStandardErrorLine: relayLine)
        do throws(ChildProcess.Failure) { return try process.run() } catch { throw .child(error) }
    }

    private func makeDirectory(_ path: String) throws(Failure) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(path, reason: error.localizedDescription)
        }
    }

    static func fileSize(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// A small base layer, added to our binary: what a deployment adds to the model file.
    static let baseLayerBytes: Int64 = 64 << 20

    /// Conversions carry the synthesizer's marker into the GGUF metadata.
    static func isSynthetic(_ file: String?) -> Bool {
        guard let file, let gguf = try? GGUFFile(path: file) else { return false }
        return gguf.metadata.contains("lambda_llm.synthetic")
    }
}
