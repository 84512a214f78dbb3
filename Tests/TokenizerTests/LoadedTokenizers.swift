import Foundation
import ModelFiles
import TestSupport
@testable import Tokenizer

/// Loads each cached GGUF tokenizer once per test run: the big vocabularies take
/// seconds to load in debug builds and several suites use the same ones.
final class LoadedTokenizers: @unchecked Sendable {
    private static let shared = LoadedTokenizers()
    private let lock = NSLock()
    private var loaded: [String: any Tokenizer] = [:]

    static func tokenizer(at url: URL) throws -> any Tokenizer {
        let cache = shared
        cache.lock.lock()
        defer { cache.lock.unlock() }
        if let tokenizer = cache.loaded[url.path] { return tokenizer }
        let tokenizer = try TokenizerLoader.load(from: GGUFFile(path: url.path))
        cache.loaded[url.path] = tokenizer
        return tokenizer
    }

    static func vocab(_ name: String) throws -> any Tokenizer { try tokenizer(at: TestAssets.vocab(name)) }
}
