/// LambdaRuntime: `lambda-llm lambda` (and `bootstrap`), a native AWS Lambda custom
/// runtime. Owns the Runtime API protocol, the event shapes, response streaming, the
/// invocation deadline and the structured logs; the request layer (validation, answers,
/// errors) is Serving's, shared with the local server, and the model comes from
/// Generation. Knows nothing of Hummingbird, the study or the packager.
import Foundation
import Generation
import ModelSource
import Serving

/// Init once (configuration, model download, model load), then `next` -> handle ->
/// answer, forever. Everything here runs on one thread that blocks on the Runtime API:
/// a runtime serves one invocation at a time by contract.
public final class LambdaRuntime: @unchecked Sendable {
    let environment: [String: String]
    let log: RuntimeLog

    public init(environment: [String: String], log: RuntimeLog? = nil) {
        self.environment = environment
        self.log = log ?? RuntimeLog(functionName: environment["AWS_LAMBDA_FUNCTION_NAME"] ?? "lambda-llm")
    }

    /// Runs until the Runtime API fails (exit code 1), init fails (1), or
    /// `maxInvocations` are answered (0). Call from a thread of its own.
    public func run(maxInvocations: Int? = nil) -> Int32 {
        let endpoint: String
        let api: RuntimeAPIClient
        do {
            endpoint = try RuntimeConfiguration.runtimeAPI(from: environment)
            api = try RuntimeAPIClient(endpoint: endpoint)
        } catch {
            // Nobody to report to: say it where a person running this by hand will look.
            log.log(.error, "init failed", [("error", .string("\(error)"))])
            return 1
        }
        let handler: InvocationHandler
        do {
            handler = try initialize()
        } catch {
            log.log(.error, "init failed", [("errorType", .string(error.errorType)), ("error", .string(error.message))])
            do {
                try api.reportInitError(LambdaErrorPayload(errorType: error.errorType, errorMessage: error.message))
            } catch {
                log.log(.error, "could not report the init error", [("error", .string("\(error)"))])
            }
            return 1
        }
        return loop(api: api, handler: handler, maxInvocations: maxInvocations)
    }

    func loop(api: any RuntimeAPI, handler: InvocationHandler, maxInvocations: Int?) -> Int32 {
        var answered = 0
        while maxInvocations.map({ answered < $0 }) ?? true {
            let invocation: RuntimeInvocation
            do {
                invocation = try api.next()
            } catch {
                log.log(.error, "cannot get the next invocation; exiting", [("error", .string("\(error)"))])
                return 1
            }
            log.begin(requestID: invocation.requestID)
            if let trace = invocation.traceID { setenv("_X_AMZN_TRACE_ID", trace, 1) } else { unsetenv("_X_AMZN_TRACE_ID") }
            do {
                try handler.handle(invocation, api: api)
            } catch let error as RuntimeAPIError {
                if case .sandboxFailure = error {
                    log.log(.error, "Runtime API failure; exiting", [("error", .string("\(error)"))])
                    log.end()
                    return 1
                }
                // A refused or lost answer ends this invocation, not the runtime.
                log.log(.error, "answer not delivered", [("error", .string("\(error)"))])
            } catch {
                log.log(.error, "answer not delivered", [("error", .string("\(error)"))])
            }
            log.end()
            answered += 1
        }
        return 0
    }

    // MARK: Init

    struct InitFailure: Error {
        var errorType: String
        var message: String
    }

    /// Configuration, model file (downloaded when it lives in S3), model load.
    func initialize() throws(InitFailure) -> InvocationHandler {
        let started = Date()
        let configuration: RuntimeConfiguration
        do {
            configuration = try RuntimeConfiguration.fromEnvironment(environment)
        } catch {
            throw InitFailure(errorType: "Runtime.ConfigError", message: error.description)
        }
        let path = try modelPath(configuration)
        let loaded: LoadedModel
        let generator: Generator
        do {
            loaded = try LoadedModel(path: path, threads: configuration.threads)
            generator = try loaded.makeGenerator(context: configuration.contextLength)
        } catch {
            throw InitFailure(errorType: "Runtime.ModelLoadError", message: "cannot load the model \(path): \(error)")
        }
        let name = configuration.modelName ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let validator = RequestValidator(model: loaded, modelName: name, contextLength: generator.session.contextLength)
        log.log(.info, "init done", [
            ("model", .string(name)),
            ("loadSeconds", .double(RuntimeLog.rounded(loaded.loadSeconds))),
            ("initSeconds", .double(RuntimeLog.rounded(Date().timeIntervalSince(started)))),
            ("threads", .int(configuration.threads)),
            ("kernels", .string(loaded.kernels)),
            ("contextLength", .int(generator.session.contextLength)),
            ("invokeMode", .string(configuration.invokeMode.rawValue)),
        ])
        return InvocationHandler(configuration: configuration, generator: generator, validator: validator, log: log)
    }

    private func modelPath(_ configuration: RuntimeConfiguration) throws(InitFailure) -> String {
        let location: ModelLocation
        do {
            location = try ModelLocation(parsing: configuration.model)
        } catch {
            throw InitFailure(errorType: "Runtime.ConfigError", message: "LAMBDA_LLM_MODEL: \(error)")
        }
        switch location {
        case .file(let path):
            guard FileManager.default.fileExists(atPath: path) else {
                throw InitFailure(errorType: "Runtime.ModelLoadError",
                                  message: "model file \(path) (LAMBDA_LLM_MODEL) does not exist: in a container image, check the Dockerfile's COPY destination")
            }
            return path
        case .s3(let bucket, let key):
            return try download(bucket: bucket, key: key, into: configuration.downloadDirectory)
        }
    }

    private func download(bucket: String, key: String, into directory: String) throws(InitFailure) -> String {
        let downloader: S3ModelDownloader
        do {
            downloader = S3ModelDownloader(configuration: try S3Configuration.fromEnvironment(environment),
                                           credentials: try AWSCredentials.fromEnvironment(environment))
        } catch {
            throw InitFailure(errorType: "Runtime.ConfigError", message: "\(error)")
        }
        log.log(.info, "model download started", [("bucket", .string(bucket)), ("key", .string(key)), ("directory", .string(directory))])
        let outcome = BlockingTask.run { () async -> Result<DownloadReport, ModelSourceError> in
            do throws(ModelSourceError) {
                return .success(try await downloader.fetch(bucket: bucket, key: key, into: directory, progress: nil))
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let report):
            log.log(.info, "model download done", [
                ("path", .string(report.path)),
                ("bytes", .int(Int(report.bytes))),
                ("downloadSeconds", .double(RuntimeLog.rounded(report.seconds))),
                ("downloadMBps", .double(RuntimeLog.rounded(report.megabytesPerSecond))),
                ("reused", .bool(report.reused)),
                ("retries", .int(report.retries)),
                ("checksum", .string(report.checksumSource)),
            ])
            return report.path
        case .failure(let error):
            throw InitFailure(errorType: "Runtime.ModelDownloadError", message: "s3://\(bucket)/\(key): \(error)")
        }
    }
}

/// Runs async work from the runtime's blocking thread and waits for it. Only ever
/// called off Swift's cooperative pool (the runtime thread), where waiting is safe.
enum BlockingTask {
    static func run<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.value = await work()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    private final class ResultBox<T>: @unchecked Sendable {
        var value: T?
    }
}
