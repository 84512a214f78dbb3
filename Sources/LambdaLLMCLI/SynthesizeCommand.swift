import ArgumentParser
import Convert
import Foundation

struct SynthesizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthesize",
        abstract: "Write a Hugging Face Llama directory with a preset's exact shapes and pseudo-random F16 weights.",
        discussion: """
        For measuring size, memory and speed at 7B scale without real weights: accuracy of the \
        result means nothing. Presets: \(SynthesisPreset.all.map(\.name).joined(separator: ", ")). \
        All use the real Llama-2 vocabulary from the cached vocab GGUF (scripts/setup-assets). \
        The weights depend only on --seed, never on --threads. Convert the directory with \
        `lambda-llm convert DIR -o model.gguf --type ...`.
        """
    )

    @Option(help: "Model shapes: \(SynthesisPreset.all.map(\.name).joined(separator: ", ")).")
    var preset: String
    @Option(name: .shortAndLong, help: "Output directory (created if missing; same-named files are replaced).")
    var output: String
    @Option(help: "Seed for the weights.")
    var seed: UInt64 = 0
    @Option(help: "Worker threads (default: the number of cores).")
    var threads: Int?
    @Option(help: "Llama-2 SentencePiece vocabulary GGUF (default: the asset cache's ggml-vocab-llama-spm.gguf).")
    var vocabulary: String?

    func validate() throws {
        guard SynthesisPreset.named(preset) != nil else {
            throw ValidationError("unknown --preset \(preset); choose one of \(SynthesisPreset.all.map(\.name).joined(separator: ", "))")
        }
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be between 1 and 256 (got \(threads))")
        }
    }

    func run() throws {
        let synthesizer = Synthesizer(
            preset: SynthesisPreset.named(preset)!,
            vocabularyGGUF: vocabulary ?? Synthesizer.defaultVocabularyPath(),
            seed: seed,
            threads: threads ?? ProcessInfo.processInfo.activeProcessorCount
        )
        let bar = TerminalProgress(label: "synthesize \(preset)")
        let report = try synthesizer.synthesize(to: output) { p in
            bar.update(done: p.bytesWritten, total: p.bytesTotal, detail: p.tensorName)
        }
        bar.finish()
        print(String(format: "%@: %.1f M parameters, %.1f MB of F16 weights in %.1f s (%.0f MB/s); %@",
                     report.directory, Double(report.parameterCount) / 1e6, Double(report.weightsBytes) / 1e6,
                     report.seconds, Double(report.weightsBytes) / 1e6 / max(report.seconds, 1e-9), Synthesizer.note))
    }
}
