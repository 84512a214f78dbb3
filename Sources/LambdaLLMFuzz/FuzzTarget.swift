/// LambdaLLMFuzz: the fuzz targets for every surface that reads bytes from strangers
/// (model files, checkpoint JSON, tokenizer input, requests and events, S3 answers),
/// and the driver that runs them either under libFuzzer (built with `-D FUZZING`,
/// see fuzz/run) or as a plain replay of saved inputs (CI). It owns no parsing of its
/// own: each target only feeds bytes to the product's public entry points, so a
/// crash found here is a crash in the product.
import Foundation

/// One fuzzed surface. `run` must accept any bytes: errors are the expected outcome
/// of most inputs; only a crash, a sanitizer report or a hang is a finding.
protocol FuzzTarget {
    static var name: String { get }
    static var summary: String { get }
    /// Loads what every input shares (a tokenizer, a validator) once per process.
    init() throws
    func run(_ bytes: [UInt8])
}

enum FuzzTargets {
    static var all: [any FuzzTarget.Type] {
        [
            GGUFFuzzTarget.self,
            CheckpointFuzzTarget.self,
            TokenizerFuzzTarget.self,
            RequestFuzzTarget.self,
            S3FuzzTarget.self,
        ]
    }

    static func named(_ name: String) -> (any FuzzTarget.Type)? {
        all.first { $0.name == name }
    }

    static var names: String { all.map { $0.name }.joined(separator: ", ") }
}

/// A target whose own invariant broke (e.g. a round trip that must hold): abort, so
/// libFuzzer saves the input, exactly as it would for a crash.
func fuzzInvariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        FileHandle.standardError.write(Data("fuzz invariant failed: \(message())\n".utf8))
        abort()
    }
}
