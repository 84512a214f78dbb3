/// The runtime's settings, read once from the function's environment at init. A bad
/// value is an init error naming the variable, not a default silently taken.
import Foundation
import Serving

public struct RuntimeConfiguration: Sendable, Equatable {
    /// How function-URL answers leave: BUFFERED (API Gateway, or a function URL in
    /// BUFFERED mode) posts payload-format-2.0 JSON; RESPONSE_STREAM sends every HTTP
    /// answer as a stream with the HTTP-integration prelude, which is what a function
    /// URL in that mode expects. Streams a request asks for are streamed either way.
    public enum InvokeMode: String, Sendable, Equatable {
        case buffered = "BUFFERED"
        case responseStream = "RESPONSE_STREAM"
    }

    public var runtimeAPI: String
    /// A path or `s3://bucket/key`.
    public var model: String
    public var modelName: String?
    /// Where an S3 model is downloaded: Lambda's only writable directory.
    public var downloadDirectory = "/tmp"
    public var threads: Int
    public var contextLength: Int?
    public var invokeMode = InvokeMode.buffered
    /// Time kept back from the invocation deadline to finish the answer and post it.
    public var deadlineMarginMilliseconds = 1000
    public var functionName = "lambda-llm"
    public var apiKey: String?
    public var faultInjection: FaultInjection?

    public init(runtimeAPI: String, model: String, threads: Int) {
        self.runtimeAPI = runtimeAPI
        self.model = model
        self.threads = threads
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case missing(String, hint: String)
        case invalid(String, value: String, expected: String)

        public var description: String {
            switch self {
            case .missing(let name, let hint): "environment variable \(name) is not set: \(hint)"
            case .invalid(let name, let value, let expected): "environment variable \(name)='\(value)' is invalid: expected \(expected)"
            }
        }
    }

    /// The Runtime API address alone: without it no other error can be reported.
    public static func runtimeAPI(from env: [String: String]) throws(Failure) -> String {
        guard let value = env["AWS_LAMBDA_RUNTIME_API"], !value.isEmpty else {
            throw .missing("AWS_LAMBDA_RUNTIME_API", hint: "`lambda` runs inside AWS Lambda or under a Runtime API emulator (try `lambda-llm invoke-local`)")
        }
        return value
    }

    public static func fromEnvironment(_ env: [String: String], cores: Int = ProcessInfo.processInfo.activeProcessorCount) throws(Failure) -> RuntimeConfiguration {
        let api = try runtimeAPI(from: env)
        guard let model = env["LAMBDA_LLM_MODEL"], !model.isEmpty else {
            throw .missing("LAMBDA_LLM_MODEL", hint: "set it to the GGUF file's path (e.g. /opt/model/model.gguf in a container image) or to s3://bucket/key")
        }
        var config = RuntimeConfiguration(runtimeAPI: api, model: model, threads: max(1, cores))
        config.threads = try integer(env, "LAMBDA_LLM_THREADS", in: 1...256) ?? config.threads
        config.contextLength = try integer(env, "LAMBDA_LLM_CONTEXT", in: 1...1_048_576)
        config.deadlineMarginMilliseconds = try integer(env, "LAMBDA_LLM_DEADLINE_MARGIN_MS", in: 0...600_000) ?? config.deadlineMarginMilliseconds
        if let mode = nonEmpty(env, "LAMBDA_LLM_INVOKE_MODE") {
            guard let parsed = InvokeMode(rawValue: mode.uppercased()) else {
                throw .invalid("LAMBDA_LLM_INVOKE_MODE", value: mode, expected: "BUFFERED or RESPONSE_STREAM")
            }
            config.invokeMode = parsed
        }
        config.modelName = nonEmpty(env, "LAMBDA_LLM_MODEL_NAME")
        config.downloadDirectory = nonEmpty(env, "LAMBDA_LLM_DOWNLOAD_DIR") ?? config.downloadDirectory
        config.functionName = nonEmpty(env, "AWS_LAMBDA_FUNCTION_NAME") ?? config.functionName
        if let raw = env["LAMBDA_LLM_API_KEY"], APIKey.isBlank(raw) {
            throw .invalid("LAMBDA_LLM_API_KEY", value: raw, expected: "a key that is not blank (remove the variable to turn authentication off)")
        }
        config.apiKey = nonEmpty(env, "LAMBDA_LLM_API_KEY")
        if let spec = nonEmpty(env, "LAMBDA_LLM_FAULT_INJECTION") {
            guard let fault = FaultInjection(spec) else {
                throw .invalid("LAMBDA_LLM_FAULT_INJECTION", value: spec, expected: "stream-error-after:N")
            }
            config.faultInjection = fault
        }
        return config
    }

    private static func nonEmpty(_ env: [String: String], _ name: String) -> String? {
        guard let value = env[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    private static func integer(_ env: [String: String], _ name: String, in range: ClosedRange<Int>) throws(Failure) -> Int? {
        guard let text = nonEmpty(env, name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw .invalid(name, value: text, expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}

/// A test hook, off unless `LAMBDA_LLM_FAULT_INJECTION` names a fault: it lets the
/// end-to-end tests see a stream break after its status went out, which no valid
/// request can otherwise cause.
public struct FaultInjection: Sendable, Equatable {
    public var streamErrorAfterEvents: Int

    public init?(_ spec: String) {
        let parts = spec.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0] == "stream-error-after", let n = Int(parts[1]), n >= 0 else { return nil }
        streamErrorAfterEvents = n
    }
}
