import ArgumentParser
import Foundation
import Generation
import Server
import Serving

/// `lambda-llm serve`: try a model locally with any OpenAI client; the Lambda runtime
/// answers the same requests the same way (one request layer).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over an OpenAI-compatible HTTP API (completions, chat, streaming, metrics).",
        discussion: """
        Routes: GET /v1/models, POST /v1/completions, POST /v1/chat/completions (stream: true for \
        server-sent events), GET /health, GET /metrics (Prometheus). One generation runs at a time; \
        up to --max-queue requests wait and the rest get 429 with Retry-After. Binds loopback by default; \
        binding another address needs an API key (--api-key or LAMBDA_LLM_API_KEY) or --insecure-no-auth.
        """
    )

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Address to bind.")
    var host = "127.0.0.1"
    @Option(help: "Port to listen on.")
    var port = 8080
    @Option(name: .customLong("api-key"), help: "Require `Authorization: Bearer KEY` (default: $LAMBDA_LLM_API_KEY, if set).")
    var apiKey: String?
    @Option(name: .customLong("max-queue"), help: "Requests that may wait while one generates; more are answered 429.")
    var maxQueue = 8
    @Option(name: .customLong("model-name"), help: "The model id clients send and see (default: the file name without .gguf).")
    var modelName: String?
    @Flag(name: .customLong("log-prompts"), help: "Log request bodies (off by default: prompts can be private).")
    var logPrompts = false
    @Option(name: .customLong("idle-timeout"), help: "Close a connection that sends nothing for this many seconds.")
    var idleTimeout = 30

    @Flag(name: .customLong("insecure-no-auth"), help: "Allow a non-loopback --host without an API key.")
    var insecureNoAuth = false

    var resolvedKey: String? { apiKey ?? ProcessInfo.processInfo.environment["LAMBDA_LLM_API_KEY"] }

    func validate() throws {
        if !(1...65535).contains(port) { throw ValidationError("--port must be between 1 and 65535") }
        if !(0...10_000).contains(maxQueue) { throw ValidationError("--max-queue must be between 0 and 10000") }
        if !(1...3600).contains(idleTimeout) { throw ValidationError("--idle-timeout must be between 1 and 3600 seconds") }
        if let apiKey, apiKey.isEmpty || APIKey.isBlank(apiKey) {
            throw ValidationError("--api-key is blank: give a key, or leave the option out to serve without one")
        }
        if apiKey == nil, let key = ProcessInfo.processInfo.environment["LAMBDA_LLM_API_KEY"], APIKey.isBlank(key) {
            throw ValidationError("LAMBDA_LLM_API_KEY is blank: give a key, or unset it to serve without one")
        }
        let loopback = ["127.0.0.1", "::1", "localhost"].contains(host)
        if !loopback && (resolvedKey ?? "").isEmpty && !insecureNoAuth {
            throw ValidationError("binding \(host) exposes the model beyond this machine: set --api-key (or LAMBDA_LLM_API_KEY), or pass --insecure-no-auth")
        }
    }

    func run() async throws {
        let loaded = try modelOptions.load()
        let generator = try modelOptions.makeGenerator(loaded)
        let name = modelName ?? URL(fileURLWithPath: loaded.path).deletingPathExtension().lastPathComponent
        var config = ServerConfiguration(modelName: name)
        config.host = host
        config.port = port
        config.apiKey = APIKey(resolvedKey)
        config.maxQueue = maxQueue
        config.idleTimeoutSeconds = idleTimeout
        config.logPrompts = logPrompts
        let server = OpenAIServer(model: loaded, generator: generator, configuration: config)
        let context = generator.session.contextLength
        let threads = loaded.pool.threadCount
        try await server.run { url in
            let line = "serve: \(name) (context \(context), \(threads) threads, \(loaded.kernels) kernels) on \(url)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
