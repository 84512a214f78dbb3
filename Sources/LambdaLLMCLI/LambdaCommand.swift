import ArgumentParser
import Foundation
import LambdaRuntime

/// `lambda-llm lambda`: the AWS Lambda custom runtime. The same binary copied as
/// `bootstrap` runs this with no arguments (see LambdaLLM.main).
struct LambdaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lambda",
        abstract: "Run as an AWS Lambda custom runtime (what `bootstrap` runs).",
        discussion: """
        Settings come from the function's environment:
          AWS_LAMBDA_RUNTIME_API          set by Lambda (or an emulator): HOST:PORT
          LAMBDA_LLM_MODEL                GGUF path (container image) or s3://bucket/key (downloaded to /tmp)
          LAMBDA_LLM_THREADS              worker threads (default: visible cores)
          LAMBDA_LLM_CONTEXT              context length in tokens (default: min(model's, 4096))
          LAMBDA_LLM_INVOKE_MODE          BUFFERED (default) or RESPONSE_STREAM (function URL streaming)
          LAMBDA_LLM_DEADLINE_MARGIN_MS   time kept back from the invocation deadline (default 1000)
          LAMBDA_LLM_MODEL_NAME           model id in answers (default: file name)
          LAMBDA_LLM_API_KEY              require `Authorization: Bearer KEY` on HTTP events
          LAMBDA_LLM_DOWNLOAD_DIR         where an S3 model goes (default /tmp)
          AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ENDPOINT_URL_S3  for S3
        Try events locally, without AWS, with `lambda-llm invoke-local`.
        """
    )

    func run() async throws {
        let runtime = LambdaRuntime(environment: ProcessInfo.processInfo.environment)
        let code = await RuntimeThread.run { runtime.run() }
        if code != 0 { throw ExitCode(code) }
    }
}

/// The runtime blocks on the Runtime API by design; it gets a thread of its own
/// instead of a cooperative-pool thread.
enum RuntimeThread {
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
