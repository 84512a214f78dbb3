import Foundation

/// Where scripts/setup-assets keeps what the project downloads (vocabularies, the
/// default model, the corpus): `$LAMBDA_LLM_CACHE`, else `$XDG_CACHE_HOME/lambda-llm`,
/// else `~/.cache/lambda-llm`. One rule, shared with the scripts and the Python tests.
public enum AssetCache {
    public static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = environment["LAMBDA_LLM_CACHE"], !dir.isEmpty { return dir }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.cache")
        return base + "/lambda-llm"
    }

    public static func path(_ relative: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        directory(environment: environment) + "/" + relative
    }
}
