import Foundation

/// Locates the test assets that `scripts/setup-assets` caches outside the repo.
/// Tests that need an asset use `.enabled(if: TestAssets.has(...))`; CI sets
/// LAMBDA_LLM_REQUIRE_ASSETS=1 so that `TestAssetsPresenceTests` fails instead
/// of letting those tests skip silently.
public enum TestAssets {
    public static var cacheDirectory: URL {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["LAMBDA_LLM_CACHE"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        let base = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() + "/.cache")
        return URL(fileURLWithPath: base).appendingPathComponent("lambda-llm")
    }

    public static var smolLM2: URL { cacheDirectory.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf") }
    public static var vocabDirectory: URL { cacheDirectory.appendingPathComponent("vocab") }
    public static var corpusDirectory: URL { cacheDirectory.appendingPathComponent("corpus") }
    public static var mistralSentencePiece: URL { cacheDirectory.appendingPathComponent("sentencepiece/mistral-tokenizer.model.v1") }
    public static func vocab(_ name: String) -> URL { vocabDirectory.appendingPathComponent("ggml-vocab-\(name).gguf") }

    public static func has(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }
    public static var required: Bool { ProcessInfo.processInfo.environment["LAMBDA_LLM_REQUIRE_ASSETS"] == "1" }
}
