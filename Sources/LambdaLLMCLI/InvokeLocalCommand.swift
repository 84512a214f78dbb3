import ArgumentParser
import Foundation
import LambdaRuntime

/// `lambda-llm invoke-local EVENT.json`: one event through the real runtime loop and
/// handler, over a Runtime API emulator on loopback, so events can be tried without AWS.
struct InvokeLocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invoke-local",
        abstract: "Run one Lambda event through the runtime locally (Runtime API emulator on loopback).",
        discussion: """
        EVENT.json is a direct-invoke request ({"prompt": ...} or {"messages": [...]}) or a \
        function URL / HTTP API v2 event; `-` reads it from stdin. The answer body goes to stdout \
        (a streamed HTTP answer's status line and headers to stderr); the runtime's JSON logs go to \
        stderr. Exit status 1 when the function answered with an error. Other LAMBDA_LLM_* \
        variables in the environment apply as they would in Lambda (see `lambda-llm lambda --help`).
        """
    )

    @Argument(help: "The event JSON file, or - for stdin.")
    var event: String
    @Option(help: "GGUF model path or s3://bucket/key (default: $LAMBDA_LLM_MODEL).")
    var model: String?
    @Option(help: "Function timeout in seconds: the invocation's deadline.")
    var timeout: Double = 60
    @Option(help: "Worker threads (default: $LAMBDA_LLM_THREADS or the number of cores).")
    var threads: Int?
    @Option(help: "Context length in tokens (default: $LAMBDA_LLM_CONTEXT or min(model's, 4096)).")
    var context: Int?
    @Option(name: .customLong("invoke-mode"), help: "BUFFERED or RESPONSE_STREAM (default: $LAMBDA_LLM_INVOKE_MODE or BUFFERED).")
    var invokeMode: String?

    func validate() throws {
        if !(timeout > 0 && timeout <= 900) { throw ValidationError("--timeout must be in (0, 900] seconds, Lambda's range") }
    }

    func run() async throws {
        let eventData: Data
        do {
            eventData = event == "-" ? FileHandle.standardInput.readDataToEndOfFile()
                : try Data(contentsOf: URL(fileURLWithPath: event))
        } catch {
            throw ValidationError("cannot read the event file \(event): \(error.localizedDescription)")
        }
        let emulator = LocalRuntimeAPI(event: eventData, timeoutSeconds: timeout)
        let endpoint = try emulator.start()
        defer { emulator.stop() }

        var env = ProcessInfo.processInfo.environment
        env["AWS_LAMBDA_RUNTIME_API"] = endpoint
        env["AWS_LAMBDA_FUNCTION_NAME"] = env["AWS_LAMBDA_FUNCTION_NAME"] ?? "invoke-local"
        if let model { env["LAMBDA_LLM_MODEL"] = model }
        if let threads { env["LAMBDA_LLM_THREADS"] = String(threads) }
        if let context { env["LAMBDA_LLM_CONTEXT"] = String(context) }
        if let invokeMode { env["LAMBDA_LLM_INVOKE_MODE"] = invokeMode }
        let environment = env
        let log = RuntimeLog(functionName: env["AWS_LAMBDA_FUNCTION_NAME"] ?? "invoke-local") { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        let runtime = LambdaRuntime(environment: environment, log: log)
        _ = await RuntimeThread.run { runtime.run(maxInvocations: 1) }

        guard let outcome = emulator.waitForOutcome(timeoutSeconds: 5) else {
            throw ValidationError("the runtime ended without answering the event (see the log above)")
        }
        try print(outcome)
    }

    private func print(_ outcome: LocalInvocationOutcome) throws {
        var body = outcome.body
        if outcome.contentType == "application/vnd.awslambda.http-integration-response",
           let end = body.firstRange(of: Data(repeating: 0, count: 8)) {
            FileHandle.standardError.write(Data("prelude: ".utf8) + body[..<end.lowerBound] + Data("\n".utf8))
            body = Data(body[end.upperBound...])
        }
        FileHandle.standardOutput.write(body)
        if body.last != 0x0A { FileHandle.standardOutput.write(Data("\n".utf8)) }
        switch outcome.kind {
        case .response:
            if let type = outcome.trailers["Lambda-Runtime-Function-Error-Type"] {
                let detail = outcome.trailers["Lambda-Runtime-Function-Error-Body"]
                    .flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
                FileHandle.standardError.write(Data("stream failed: \(type) \(detail)\n".utf8))
                throw ExitCode(1)
            }
        case .error, .initError:
            FileHandle.standardError.write(Data("function error: \(outcome.errorType ?? "unknown")\n".utf8))
            throw ExitCode(1)
        }
    }
}
