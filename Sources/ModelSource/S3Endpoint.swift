/// An S3-compatible endpoint given by AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL
/// (moto, MinIO, LocalStack, a VPC endpoint): always path-style addressing,
/// and plain http is allowed because such servers often run on loopback.
public struct S3Endpoint: Sendable, Equatable {
    public var scheme: String
    public var host: String
    public var port: Int?
    /// A path prefix such as "/s3", without a trailing '/'; usually empty.
    public var basePath: String

    public init(parsing text: String) throws(ModelSourceError) {
        var trimmed = text.trimmingWhitespace()
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let parts = RequestURLParts(trimmed) else {
            throw .invalidEndpoint(text, reason: "expected http://host[:port] or https://host[:port]")
        }
        guard parts.query.isEmpty, !trimmed.contains("#") else {
            throw .invalidEndpoint(text, reason: "an endpoint has no query or fragment")
        }
        scheme = parts.scheme
        host = parts.host
        port = parts.port
        basePath = parts.path
    }

    /// "scheme://host[:port]" as a URL needs it (the port always shown when set).
    var origin: String { "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")" }
}
