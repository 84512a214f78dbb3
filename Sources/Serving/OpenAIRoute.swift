/// The routes both front doors answer, matched from a method and a path. The local
/// server hands them to its HTTP router; the Lambda runtime, which has no router,
/// matches function-URL events here, so an unknown path or a wrong method gets the
/// same 404/405 from either.
public enum OpenAIRoute: Sendable, Equatable {
    case models
    case completions
    case chatCompletions
    case health

    public var method: String {
        switch self {
        case .models, .health: "GET"
        case .completions, .chatCompletions: "POST"
        }
    }

    public var path: String {
        switch self {
        case .models: "/v1/models"
        case .completions: "/v1/completions"
        case .chatCompletions: "/v1/chat/completions"
        case .health: "/health"
        }
    }

    static let all: [OpenAIRoute] = [.models, .completions, .chatCompletions, .health]

    /// The route at `path` whatever the method (trailing slash tolerated), or nil.
    public static func at(path: String) -> OpenAIRoute? {
        var normalized = path.isEmpty ? "/" : path
        if normalized.count > 1, normalized.hasSuffix("/") { normalized.removeLast() }
        return all.first { $0.path == normalized }
    }

    /// The route for `method` and `path`, or the 404/405 a client should get.
    /// A trailing slash is tolerated, as most routers do.
    public static func match(method: String, path: String) throws(APIError) -> OpenAIRoute {
        guard let route = at(path: path) else { throw .notFound(path: path) }
        // HEAD is a GET without the body, which the front door drops.
        let asked = method.uppercased() == "HEAD" ? "GET" : method.uppercased()
        guard asked == route.method else { throw .methodNotAllowed(method.uppercased(), path: path) }
        return route
    }
}
