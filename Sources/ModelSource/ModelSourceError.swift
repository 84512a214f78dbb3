/// Why a model could not be located or fetched. Every message names the bucket,
/// key, variable or directory at fault and says what to do; none ever carries a
/// secret key, session token or Authorization header (S3 error bodies can echo
/// the signed request, so only their Code and Message are kept, and the
/// downloader scrubs credentials from every message it builds).
public enum ModelSourceError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidLocation(String, reason: String)
    case missingCredentials(variables: [String])
    case missingRegion
    case invalidEndpoint(String, reason: String)
    case invalidConfiguration(String)
    case bucketNotFound(bucket: String, key: String)
    case objectNotFound(bucket: String, key: String)
    /// A 403: the S3 error code (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, ...) and its message.
    case accessDenied(bucket: String, key: String, code: String, message: String)
    /// A 301 PermanentRedirect: the bucket lives in another region than the one configured.
    case wrongRegion(bucket: String, bucketRegion: String?, configuredRegion: String)
    case noChecksum(bucket: String, key: String)
    case invalidChecksum(bucket: String, key: String, source: String, value: String)
    case checksumMismatch(bucket: String, key: String, expected: String, actual: String)
    case insufficientSpace(directory: String, neededBytes: Int64, freeBytes: Int64)
    case networkFailure(bucket: String, key: String, attempts: Int, lastError: String)
    case objectChanged(bucket: String, key: String)
    case unexpectedStatus(bucket: String, key: String, operation: String, status: Int, code: String, message: String)
    case invalidResponse(bucket: String, key: String, reason: String)
    case fileSystem(path: String, operation: String, reason: String)
    case cancelled(bucket: String, key: String)

    public var description: String {
        switch self {
        case .invalidLocation(let text, let reason):
            return "invalid model location '\(text)': \(reason); use a local path or s3://bucket/key"
        case .missingCredentials(let variables):
            return "no AWS credentials: \(variables.joined(separator: " and ")) \(variables.count == 1 ? "is" : "are") not set "
                + "(Lambda sets them from the function's execution role; elsewhere export them)"
        case .missingRegion:
            return "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION) to the bucket's region"
        case .invalidEndpoint(let text, let reason):
            return "invalid S3 endpoint '\(text)' (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL): \(reason)"
        case .invalidConfiguration(let reason):
            return "invalid S3 download settings: \(reason)"
        case .bucketNotFound(let bucket, let key):
            return "bucket '\(bucket)' does not exist (fetching s3://\(bucket)/\(key)): check the bucket name and region"
        case .objectNotFound(let bucket, let key):
            return "object '\(key)' not found in bucket '\(bucket)' (s3://\(bucket)/\(key)): check the key's spelling and case"
        case .accessDenied(let bucket, let key, let code, let message):
            let detail = message.isEmpty ? code : "\(code): \(message)"
            return "access denied to s3://\(bucket)/\(key) (\(detail)): the function's role needs s3:GetObject on "
                + "arn:aws:s3:::\(bucket)/\(key) (and s3:ListBucket on the bucket to tell a missing key from a denied one)"
        case .wrongRegion(let bucket, let bucketRegion, let configuredRegion):
            let actual = bucketRegion.map { "region \($0)" } ?? "another region"
            return "bucket '\(bucket)' is in \(actual), not \(configuredRegion): set AWS_REGION to the bucket's region"
        case .noChecksum(let bucket, let key):
            return "s3://\(bucket)/\(key) has no SHA-256 to verify against: upload it with "
                + "`aws s3 cp FILE s3://\(bucket)/\(key) --metadata sha256=$(sha256sum FILE | cut -d' ' -f1)`, "
                + "or put `sha256sum` output in a sidecar object s3://\(bucket)/\(key).sha256"
        case .invalidChecksum(let bucket, let key, let source, let value):
            return "the SHA-256 of s3://\(bucket)/\(key) in \(source) is not 64 hex digits (got '\(value.prefix(80))')"
        case .checksumMismatch(let bucket, let key, let expected, let actual):
            return "s3://\(bucket)/\(key) failed verification: expected sha256 \(expected), got \(actual); "
                + "the download was deleted (re-upload the object or fix its sha256)"
        case .insufficientSpace(let directory, let needed, let free):
            return "not enough space in \(directory): need \(Self.megabytes(needed)) MB, \(Self.megabytes(free)) MB free; "
                + "raise the function's EphemeralStorage (Lambda /tmp, 512 to 10240 MB) or choose another --dir"
        case .networkFailure(let bucket, let key, let attempts, let lastError):
            return "downloading s3://\(bucket)/\(key) failed after \(attempts == 1 ? "1 attempt (no retries)" : "\(attempts) attempts"): \(lastError)"
        case .objectChanged(let bucket, let key):
            return "s3://\(bucket)/\(key) was replaced while it was being downloaded (its ETag changed); try again"
        case .unexpectedStatus(let bucket, let key, let operation, let status, let code, let message):
            let detail = [code, message].filter { !$0.isEmpty }.joined(separator: ": ")
            return "\(operation) s3://\(bucket)/\(key) answered HTTP \(status)\(detail.isEmpty ? "" : " (\(detail))")"
        case .invalidResponse(let bucket, let key, let reason):
            return "unexpected answer from S3 for s3://\(bucket)/\(key): \(reason)"
        case .fileSystem(let path, let operation, let reason):
            return "\(operation) \(path) failed: \(reason)"
        case .cancelled(let bucket, let key):
            return "download of s3://\(bucket)/\(key) was cancelled"
        }
    }

    /// MB as 2^20 bytes, rounded up so that "need" never reads smaller than the truth.
    static func megabytes(_ bytes: Int64) -> Int64 { bytes <= 0 ? 0 : (bytes + (1 << 20) - 1) >> 20 }
}
