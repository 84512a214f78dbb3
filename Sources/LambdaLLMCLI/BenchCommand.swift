import ArgumentParser
import Foundation
import Generation
import Kernels
import Study

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure load time, time to first token, prefill and decode speed, and peak memory."
    )

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .customLong("prompt-tokens"), help: "Prompt length in tokens (real English text).")
    var promptTokens: Int = 128
    @Option(name: .customLong("gen-tokens"), help: "Tokens to generate (greedy, end-of-generation ignored).")
    var genTokens: Int = 128
    @Option(help: "Timed runs after the warm-ups; the median is reported.")
    var repetitions: Int = 3
    @Option(help: "Untimed runs first, to warm caches and page in the weights (0 when the page cache is already warm).")
    var warmups: Int = 1
    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        if promptTokens < 1 { throw ValidationError("--prompt-tokens must be at least 1") }
        if genTokens < 1 { throw ValidationError("--gen-tokens must be at least 1") }
        if !(1...100).contains(repetitions) { throw ValidationError("--repetitions must be between 1 and 100") }
        if !(0...10).contains(warmups) { throw ValidationError("--warmups must be between 0 and 10") }
    }

    func run() throws {
        let loaded = try modelOptions.load()
        let context = modelOptions.context ?? min(loaded.model.configuration.contextLength, promptTokens + genTokens + 8)
        guard promptTokens + genTokens <= context else {
            throw ValidationError("--prompt-tokens + --gen-tokens (\(promptTokens + genTokens)) exceed the context \(context)")
        }
        let generator = try modelOptions.makeGenerator(loaded, context: context)
        let prompt = BenchPrompt.tokens(count: promptTokens, tokenizer: loaded.tokenizer)
        var runs: [GenerationTimings] = []
        for i in 0..<(warmups + repetitions) {
            generator.reset()
            let request = GenerationRequest(
                promptTokens: prompt, maxTokens: genTokens,
                sampling: SamplingParameters(temperature: 0), ignoreEndOfGeneration: true
            )
            let result = try generator.generate(request)
            if i >= warmups { runs.append(result.timings) }
        }
        let report = BenchReport(
            model: loaded.path, threads: loaded.pool.threadCount, isa: KernelISA.active.rawValue,
            promptTokens: promptTokens, genTokens: genTokens, loadSeconds: loaded.loadSeconds,
            runs: runs, peakRSSBytes: ProcessMemory.peakResidentBytes()
        )
        print(json ? report.json() : report.table())
    }
}

extension BenchReport {
    /// The medians of the timed requests (the warm-ups are not among them).
    init(model: String, threads: Int, isa: String, promptTokens: Int, genTokens: Int,
         loadSeconds: Double, runs: [GenerationTimings], peakRSSBytes: Int) {
        let decode = runs.map(\.decodeTokensPerSecond)
        self.init(
            model: model, threads: threads, isa: isa, promptTokens: promptTokens, genTokens: genTokens,
            loadSeconds: loadSeconds,
            timeToFirstTokenSeconds: Self.median(runs.map(\.timeToFirstTokenSeconds)),
            prefillTokensPerSecond: Self.median(runs.map(\.prefillTokensPerSecond)),
            decodeTokensPerSecond: Self.median(decode),
            totalSeconds: Self.median(runs.map(\.totalSeconds)),
            decodeTokensPerSecondSpread: [decode.min() ?? 0, decode.max() ?? 0],
            peakRSSBytes: peakRSSBytes
        )
    }

    func table() -> String {
        [
            "model             \(model)",
            "threads           \(threads) (\(isa))",
            String(format: "load              %.3f s", loadSeconds),
            String(format: "time to 1st token %.3f s (prompt %d tokens)", timeToFirstTokenSeconds, promptTokens),
            String(format: "prefill           %.1f tokens/s", prefillTokensPerSecond),
            String(format: "decode            %.1f tokens/s (min %.1f, max %.1f; %d tokens)",
                   decodeTokensPerSecond, decodeTokensPerSecondSpread[0], decodeTokensPerSecondSpread[1], genTokens),
            String(format: "request total     %.3f s", totalSeconds),
            "peak RSS          \(ByteFormat.describe(peakRSSBytes))",
        ].joined(separator: "\n")
    }
}

enum ProcessMemory {
    /// This process's maximum resident set size so far.
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Int(usage.ru_maxrss) * 1024  // Linux reports KiB
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #endif
    }
}
