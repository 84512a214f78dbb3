import ArgumentParser
import Foundation
import Engine
import Generation

extension InferenceSession.Precision: ExpressibleByArgument {}

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
        try loaded.makeGenerator(context: context ?? fallback, precision: precision)
    }
}
