import ArgumentParser
import Convert
import Foundation

extension QuantizationType: ExpressibleByArgument {}

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a Hugging Face Llama checkpoint or a GGUF into a GGUF at f32, f16, bf16, int8, int4-sym or int4-asym.",
        discussion: """
        SOURCE is a Hugging Face model directory (config.json, *.safetensors, tokenizer.model or \
        tokenizer.json) or a GGUF file (re-quantized through F32). int8 = Q8_0, int4-sym = Q4_0, \
        int4-asym = Q4_1. Like NNCF's default, 4-bit types keep the token embedding and output head \
        at 8 bits; --all-layers quantizes them too. Norms stay F32. The output appears atomically.
        """
    )

    @Argument(help: "Hugging Face model directory or GGUF file.")
    var source: String
    @Option(name: .shortAndLong, help: "Output GGUF path.")
    var output: String
    @Option(name: .long, help: "f32, f16, bf16, int8, int4-sym or int4-asym.")
    var type: QuantizationType
    @Flag(name: .customLong("all-layers"), help: "Quantize the token embedding and output head too.")
    var allLayers = false
    @Option(help: "Worker threads (default: the number of cores).")
    var threads: Int?

    func validate() throws {
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be between 1 and 256 (got \(threads))")
        }
    }

    func run() throws {
        let checkpoint = try CheckpointSources.open(source)
        let converter = Converter(
            type: type, allLayers: allLayers,
            threads: threads ?? ProcessInfo.processInfo.activeProcessorCount
        )
        let bar = TerminalProgress(label: "convert \(type.rawValue)")
        let report = try converter.convert(checkpoint, to: output) { p in
            bar.update(done: p.bytesWritten, total: p.bytesTotal, detail: p.tensorName)
        }
        bar.finish()
        print(String(format: "%@: %.1f MB (%@) in %.1f s", report.outputPath, Double(report.bytes) / 1e6,
                     type.rawValue, report.seconds))
    }
}
