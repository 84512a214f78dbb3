/// AWS credentials for signing, as Lambda hands them to a function (environment
/// variables from the execution role). Every printed form hides the secret key and
/// the session token, and `redact` scrubs them out of foreign text (S3 error bodies
/// echo signed requests) before that text reaches an error message or a log.
public struct AWSCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let accessKeyID: String
    public let secretAccessKey: String
    public let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, optionally, AWS_SESSION_TOKEN.
    public static func fromEnvironment(_ env: [String: String]) throws(ModelSourceError) -> AWSCredentials {
        func value(_ name: String) -> String? {
            guard let text = env[name]?.trimmingWhitespace(), !text.isEmpty else { return nil }
            return text
        }
        let id = value("AWS_ACCESS_KEY_ID"), secret = value("AWS_SECRET_ACCESS_KEY")
        guard let id, let secret else {
            let missing = [id == nil ? "AWS_ACCESS_KEY_ID" : nil, secret == nil ? "AWS_SECRET_ACCESS_KEY" : nil].compactMap { $0 }
            throw .missingCredentials(variables: missing)
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))
    }

    /// The key ID is an identifier, not a secret, but only its ends are needed to tell keys apart.
    public var description: String {
        let id = accessKeyID.count > 8 ? "\(accessKeyID.prefix(4))...\(accessKeyID.suffix(4))" : accessKeyID
        return "AWSCredentials(accessKeyID: \(id), secretAccessKey: <redacted>, sessionToken: \(sessionToken == nil ? "none" : "<redacted>"))"
    }

    public var debugDescription: String { description }

    /// `dump` and debuggers walk the mirror, so it shows the redacted form only.
    public var customMirror: Mirror { Mirror(self, children: ["description": description], displayStyle: .struct) }

    /// `text` with the secret key and session token replaced by "<redacted>".
    public func redact(_ text: String) -> String {
        var result = text
        for secret in [secretAccessKey, sessionToken].compactMap({ $0 }) where secret.count >= 4 {
            result = result.replacingAll(secret, with: "<redacted>")
        }
        return result
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[start...end])
    }

    /// Foundation-free so that this module's string handling is the same on every platform.
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
