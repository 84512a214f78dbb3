/// Tells the two event shapes a function sees apart: a direct invocation, whose
/// event is the OpenAI-style request object itself, and a function URL / API Gateway
/// HTTP API event (payload format 2.0), which wraps an HTTP request. Only the HTTP
/// shape is unwrapped here; the request body is the request layer's to judge.
import Foundation
import ModelFiles
import Serving

public enum LambdaEvent: Sendable, Equatable {
    /// The event bytes are the request body (or garbage the validator will name); a chat
    /// when the object carries `messages`, else a completion.
    case direct(Data, kind: RequestKind)
    case http(HTTPEvent)
    /// An HTTP event this runtime cannot answer as asked (payload format 1.0, or a
    /// body that is not the base64 it claims to be): answered as an HTTP error.
    case badHTTP(APIError)

    public init(_ event: Data) {
        // Events that are not one JSON object are direct requests gone wrong: the
        // validator turns them into a 400 naming the parse error.
        guard case .object(let object)? = try? JSONValue.parse([UInt8](event)) else {
            self = .direct(event, kind: .completion)
            return
        }
        let context = object["requestContext"]?.objectValue
        if object["version"]?.stringValue == "2.0", let http = context?["http"]?.objectValue {
            self = Self.http(object, http: http)
        } else if object["httpMethod"] != nil, context != nil {
            self = .badHTTP(APIError(
                status: 400,
                message: "API Gateway payload format 1.0 is not supported: configure the integration's payload format version as 2.0",
                type: "invalid_request_error", code: "unsupported_event"
            ))
        } else {
            self = .direct(event, kind: object["messages"] != nil ? .chat : .completion)
        }
    }

    private static func http(_ object: JSONObject, http: JSONObject) -> LambdaEvent {
        let method = http["method"]?.stringValue ?? "GET"
        let path = object["rawPath"]?.stringValue ?? http["path"]?.stringValue ?? "/"
        var headers: [String: String] = [:]
        if let given = object["headers"]?.objectValue {
            for name in given.keys {
                if let value = given[name]?.stringValue { headers[name.lowercased()] = value }
            }
        }
        var body = Data()
        if let text = object["body"]?.stringValue {
            if case .bool(true)? = object["isBase64Encoded"] {
                guard let decoded = Data(base64Encoded: text) else {
                    return .badHTTP(APIError(
                        status: 400, message: "The request body is marked isBase64Encoded but is not valid base64",
                        type: "invalid_request_error", code: "invalid_base64"
                    ))
                }
                body = decoded
            } else {
                body = Data(text.utf8)
            }
        }
        return .http(HTTPEvent(method: method, path: path, headers: headers, body: body))
    }
}

/// The request inside a function URL or HTTP API event.
public struct HTTPEvent: Sendable, Equatable {
    public var method: String
    public var path: String
    /// Lower-case names, as Lambda delivers them.
    public var headers: [String: String]
    public var body: Data

    public init(method: String, path: String, headers: [String: String] = [:], body: Data = Data()) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}
