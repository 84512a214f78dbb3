import Foundation
import LambdaRuntime
import Testing
import TestSupport

/// The whole loop over real HTTP: the NIO Runtime API client against the loopback
/// emulator that `invoke-local` uses.
@Suite("Runtime loop over the Runtime API", .serialized)
struct RuntimeLoopTests {
    func run(event: String, env extra: [String: String], timeout: Double = 30) async throws -> (Int32, LocalInvocationOutcome?) {
        let emulator = LocalRuntimeAPI(event: Data(event.utf8), timeoutSeconds: timeout)
        let endpoint = try emulator.start()
        defer { emulator.stop() }
        var env = ["AWS_LAMBDA_RUNTIME_API": endpoint, "LAMBDA_LLM_THREADS": "2", "LAMBDA_LLM_CONTEXT": "256"]
        env.merge(extra) { $1 }
        let runtime = LambdaRuntime(environment: env, log: RuntimeLog(functionName: "t") { _ in })
        let code = await withCheckedContinuation { c in Thread { c.resume(returning: runtime.run(maxInvocations: 1)) }.start() }
        return (code, emulator.waitForOutcome(timeoutSeconds: 1))
    }

    @Test("a missing model file is reported to /init/error and the runtime exits 1")
    func initErrorMissingModel() async throws {
        let (code, outcome) = try await run(event: "{}", env: ["LAMBDA_LLM_MODEL": "/nonexistent/model.gguf"])
        #expect(code == 1)
        let o = try #require(outcome)
        #expect(o.kind == .initError)
        #expect(o.errorType == "Runtime.ModelLoadError")
        #expect(String(decoding: o.body, as: UTF8.self).contains("/nonexistent/model.gguf"))
    }

    @Test("an unset model variable is a configuration init error")
    func initErrorConfig() async throws {
        let (code, outcome) = try await run(event: "{}", env: [:])
        #expect(code == 1)
        let o = try #require(outcome)
        #expect(o.errorType == "Runtime.ConfigError")
    }

    @Test("a direct invocation is answered through the real client",
          .enabled(if: TestAssets.has(TestAssets.smolLM2)))
    func directAnswer() async throws {
        let (code, outcome) = try await run(event: #"{"prompt": "Hello", "max_tokens": 3, "temperature": 0}"#,
                                            env: ["LAMBDA_LLM_MODEL": TestAssets.smolLM2.path])
        #expect(code == 0)
        let o = try #require(outcome)
        #expect(o.kind == .response)
        #expect(o.streamed == false)
        let answer = try JSONSerialization.jsonObject(with: o.body) as? [String: Any]
        #expect(answer?["object"] as? String == "lambda_llm.completion")
    }

    @Test("a broken stream reaches the Runtime API as chunked body plus error trailers",
          .enabled(if: TestAssets.has(TestAssets.smolLM2)))
    func streamTrailers() async throws {
        let (code, outcome) = try await run(event: #"{"prompt": "Hello", "max_tokens": 16, "temperature": 0, "stream": true}"#,
                                            env: ["LAMBDA_LLM_MODEL": TestAssets.smolLM2.path, "LAMBDA_LLM_FAULT_INJECTION": "stream-error-after:2"])
        #expect(code == 0)
        let o = try #require(outcome)
        #expect(o.streamed == true)
        #expect(o.trailers["Lambda-Runtime-Function-Error-Type"] == "InternalError")
        let trailer = try #require(o.trailers["Lambda-Runtime-Function-Error-Body"].flatMap { Data(base64Encoded: $0) })
        #expect(String(decoding: trailer, as: UTF8.self).contains("errorMessage"))
        #expect(String(decoding: o.body, as: UTF8.self).hasPrefix("data: "))
    }
}
