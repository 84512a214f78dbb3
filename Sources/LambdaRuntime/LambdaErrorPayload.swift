/// The JSON body Lambda expects on `/invocation/{id}/error` and `/init/error`, and
/// base64-encoded in a broken stream's trailer. `status` and `param` are ours: they
/// carry the request layer's verdict to a direct caller that has no HTTP status.
import Foundation
import Serving

public struct LambdaErrorPayload: Sendable, Equatable {
    public static let contentType = "application/vnd.aws.lambda.error+json"

    public var errorType: String
    public var errorMessage: String
    public var status: Int?
    public var param: String?

    public init(errorType: String, errorMessage: String, status: Int? = nil, param: String? = nil) {
        self.errorType = errorType
        self.errorMessage = errorMessage
        self.status = status
        self.param = param
    }

    /// A request-layer error as a direct invocation's error: the type names the
    /// HTTP status class (BadRequest, PayloadTooLarge, ...), the message is the same
    /// one the local server would send.
    public init(_ error: APIError) {
        self.init(errorType: Self.errorType(status: error.status), errorMessage: error.message,
                  status: error.status, param: error.param)
    }

    static func errorType(status: Int) -> String {
        switch status {
        case 400: "BadRequest"
        case 401: "Unauthorized"
        case 404: "NotFound"
        case 405: "MethodNotAllowed"
        case 413: "PayloadTooLarge"
        case 429: "TooManyRequests"
        case 500..<600: "InternalError"
        default: "HTTP\(status)"
        }
    }

    public var json: Data {
        var members: [(String, JSONText)] = [
            ("errorMessage", .string(errorMessage)),
            ("errorType", .string(errorType)),
        ]
        if let status { members.append(("status", .int(status))) }
        if status != nil { members.append(("param", param.map(JSONText.string) ?? .null)) }
        members.append(("stackTrace", .array([])))
        return JSONText.object(members).data
    }
}
