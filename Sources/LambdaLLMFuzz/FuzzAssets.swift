import Foundation

/// Where the targets that need real vocabularies find them: the test assets the
/// project's set-up script caches (never the network). fuzz/run exports the paths.
enum FuzzAssets {
    enum Missing: Error, CustomStringConvertible {
        case variable(String, purpose: String)
        case file(String, variable: String)

        var description: String {
            switch self {
            case .variable(let name, let purpose):
                "set \(name) to \(purpose) (fuzz/run sets it from scripts/setup-assets' cache)"
            case .file(let path, let variable):
                "\(variable)=\(path) does not exist (run scripts/setup-assets)"
            }
        }
    }

    /// The byte-level BPE model (SmolLM2 GGUF): tokenizer and chat template.
    static func bytePairModel() throws -> String {
        try path("LAMBDA_LLM_FUZZ_MODEL", purpose: "the SmolLM2 test GGUF")
    }

    /// A SentencePiece `tokenizer.model` (Mistral's, as the Llama family uses).
    static func sentencePieceModel() throws -> String {
        try path("LAMBDA_LLM_FUZZ_SPM", purpose: "a SentencePiece tokenizer.model")
    }

    private static func path(_ variable: String, purpose: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
            throw Missing.variable(variable, purpose: purpose)
        }
        guard FileManager.default.fileExists(atPath: value) else { throw Missing.file(value, variable: variable) }
        return value
    }

    /// A private scratch directory for targets whose entry point reads files by path.
    static func scratchDirectory(_ name: String) throws -> String {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = (base as NSString).appendingPathComponent("lambda-llm-fuzz-\(name)-\(getpid())")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
