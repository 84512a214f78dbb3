#if FUZZING
import Foundation

/// libFuzzer's side of the binary (built by fuzz/run with `-sanitize=fuzzer,address
/// -D FUZZING`): libFuzzer owns `main` and calls in here once per input. One binary
/// serves every target; LAMBDA_LLM_FUZZ_TARGET picks which, so coverage and corpus
/// stay per target.
enum LibFuzzerEntry {
    /// Set on the first input, read-only after; libFuzzer runs inputs on one thread.
    nonisolated(unsafe) static var target: (any FuzzTarget)?

    static func loadTarget() -> any FuzzTarget {
        if let target { return target }
        let name = ProcessInfo.processInfo.environment["LAMBDA_LLM_FUZZ_TARGET"] ?? ""
        guard let type = FuzzTargets.named(name) else {
            FileHandle.standardError.write(Data("LAMBDA_LLM_FUZZ_TARGET must be one of: \(FuzzTargets.names) (got \"\(name)\")\n".utf8))
            exit(2)
        }
        do {
            let loaded = try type.init()
            target = loaded
            return loaded
        } catch {
            FileHandle.standardError.write(Data("cannot set up fuzz target \(name): \(error)\n".utf8))
            exit(2)
        }
    }
}

/// Loads the target before the first input, so that loading a model is not timed as
/// that input (a 1 s timeout would otherwise end the run at once).
@_cdecl("LLVMFuzzerInitialize")
public func lambdaLLMFuzzInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    _ = LibFuzzerEntry.loadTarget()
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func lambdaLLMFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let target = LibFuzzerEntry.loadTarget()
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    target.run(bytes)
    return 0
}
#endif
