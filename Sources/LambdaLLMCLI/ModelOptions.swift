import ArgumentParser
import Foundation
import Engine
import Generation

extension InferenceSession.Precision: ExpressibleByArgument {}
extension KVCache.Element: ExpressibleByArgument {}

/// Options every command that runs a model shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Path to a GGUF model file.")
    var model: String

    @Option(name: .long, help: "Worker threads (default: the number of cores).")
    var threads: Int?

    @Option(name: .long, help: "Context length in tokens (default: min(model's, 4096)).")
    var context: Int?

    @Option(help: "fast: 8-bit activations with integer dot products (default); exact: float activations, slower.")
    var precision: InferenceSession.Precision = .quantizedActivations

    @Option(name: .customLong("kv-cache"),
            help: "How the KV cache keeps keys and values: f16 (the default with --precision fast: half the memory) or f32 (the default with exact).")
    var kvCache: KVCache.Element?

    var threadCount: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    func validate() throws {
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be between 1 and 256 (got \(threads))")
        }
        if let context, context < 1 {
            throw ValidationError("--context must be at least 1 (got \(context))")
        }
    }

    func load() throws -> LoadedModel {
        try LoadedModel(path: model, threads: threadCount)
    }

    func makeGenerator(_ loaded: LoadedModel, context fallback: Int? = nil) throws -> Generator {
        try loaded.makeGenerator(context: context ?? fallback, precision: precision, cacheElement: kvCache)
    }
}
