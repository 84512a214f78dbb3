import Foundation
import Generation
import LambdaRuntime
import Serving

/// The request layer both front doors share, as a stranger reaches it: the first
/// byte picks an OpenAI completion body, a chat body, or a whole Lambda event (direct,
/// or function URL / HTTP API v2 with headers and base64 bodies). Everything a request
/// can reach before generation runs: event unwrapping, routing, the API key check,
/// JSON validation, chat templating and tokenization, and the error answer's JSON.
struct RequestFuzzTarget: FuzzTarget {
    static let name = "request"
    static let summary = "OpenAI JSON bodies, Lambda direct and function-URL v2 events"

    private let validator: RequestValidator
    private let apiKey = APIKey("fuzz-key")

    init() throws {
        let model = try LoadedModel(path: FuzzAssets.bytePairModel(), threads: 1)
        validator = RequestValidator(model: model, modelName: "smollm2", contextLength: 2048)
    }

    func run(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let body = Data(bytes.dropFirst())
        do {
            switch selector % 3 {
            case 0: _ = try validator.completion(body)
            case 1: _ = try validator.chat(body)
            default: try event(body)
            }
        } catch {
            _ = error.json()
        }
    }

    private func event(_ bytes: Data) throws(APIError) {
        switch LambdaEvent(bytes) {
        case .direct(let body, let kind):
            _ = try kind == .chat ? validator.chat(body) : validator.completion(body)
        case .badHTTP(let error):
            throw error
        case .http(let event):
            let route = try OpenAIRoute.match(method: event.method, path: event.path)
            if route != .health, let apiKey, !apiKey.accepts(authorization: event.headers["authorization"]) {
                throw APIError.unauthorized()
            }
            if route == .completions { _ = try validator.completion(event.body) }
            if route == .chatCompletions { _ = try validator.chat(event.body) }
        }
    }
}
