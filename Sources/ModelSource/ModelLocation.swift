/// Where a model lives, parsed from LAMBDA_LLM_MODEL or the command line: a
/// local path (a container image's /opt/model/m.gguf) or an S3 object.
public enum ModelLocation: Equatable, Sendable {
    case file(String)
    case s3(bucket: String, key: String)

    /// "s3://bucket/key" (the key taken literally, as the AWS CLI does), "file:///path",
    /// or any other text as a path. Malformed S3 URLs fail here, before any network work.
    public init(parsing text: String) throws(ModelSourceError) {
        guard !text.isEmpty else { throw .invalidLocation(text, reason: "it is empty") }
        guard let schemeEnd = text.firstRange(of: "://"), Self.isScheme(text[..<schemeEnd.lowerBound]) else {
            self = .file(text)
            return
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        let rest = String(text[schemeEnd.upperBound...])
        switch scheme {
        case "s3":
            let (bucket, key) = try Self.splitS3(rest, original: text)
            self = .s3(bucket: bucket, key: key)
        case "file":
            guard rest.hasPrefix("/") else {
                throw .invalidLocation(text, reason: "a file:// URL needs an absolute path (file:///opt/model/m.gguf)")
            }
            self = .file(rest)
        default:
            throw .invalidLocation(text, reason: "unsupported scheme '\(scheme)'")
        }
    }

    private static func splitS3(_ rest: String, original: String) throws(ModelSourceError) -> (String, String) {
        guard let slash = rest.firstIndex(of: "/") else {
            if let problem = bucketProblem(rest) { throw .invalidLocation(original, reason: problem) }
            throw .invalidLocation(original, reason: "no object key after the bucket name (s3://bucket/key)")
        }
        let bucket = String(rest[..<slash])
        let key = String(rest[rest.index(after: slash)...])
        if let problem = bucketProblem(bucket) { throw .invalidLocation(original, reason: problem) }
        guard !key.isEmpty else {
            throw .invalidLocation(original, reason: "no object key after the bucket name (s3://bucket/key)")
        }
        guard !key.hasSuffix("/") else {
            throw .invalidLocation(original, reason: "the key '\(key)' ends in '/', which names a folder, not a model file")
        }
        guard key.utf8.count <= 1024 else {
            throw .invalidLocation(original, reason: "the key is \(key.utf8.count) bytes; S3 keys are at most 1024")
        }
        guard !key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .invalidLocation(original, reason: "the key contains control characters")
        }
        return (bucket, key)
    }

    /// RFC 3986 scheme characters; "./dir://x" stays a path.
    private static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+.-".unicodeScalars.contains($0)) }
    }

    /// S3's bucket naming rules, so that a typo fails with a reason instead of a DNS error.
    static func bucketProblem(_ bucket: String) -> String? {
        if bucket.isEmpty { return "no bucket name (s3://bucket/key)" }
        guard (3...63).contains(bucket.utf8.count) else {
            return "bucket name '\(bucket.prefix(80))' must be 3 to 63 characters long"
        }
        let allowed = bucket.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
        guard allowed else {
            return "bucket name '\(bucket)' may hold only lower-case letters, digits, '.' and '-'"
        }
        guard let first = bucket.utf8.first, let last = bucket.utf8.last,
              first != UInt8(ascii: "."), first != UInt8(ascii: "-"), last != UInt8(ascii: "."), last != UInt8(ascii: "-")
        else {
            return "bucket name '\(bucket)' must begin and end with a letter or digit"
        }
        if bucket.contains("..") { return "bucket name '\(bucket)' has two dots in a row" }
        return nil
    }
}
