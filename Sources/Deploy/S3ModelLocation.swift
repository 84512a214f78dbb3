/// The `s3://bucket/key` a zip-deployed function downloads its model from, and the IAM
/// resources that let it read exactly that object and its `.sha256` sidecar, nothing else.
import ModelSource

public struct S3ModelLocation: Sendable, Equatable {
    public var bucket: String
    public var key: String

    /// The parse failure of `--s3-uri`, from the same parser the runtime uses for
    /// LAMBDA_LLM_MODEL, so the packager never accepts a location the function refuses.
    public struct Failure: Error, CustomStringConvertible, Equatable, Sendable {
        public var reason: String
        public var description: String { "--s3-uri: \(reason)" }
    }

    public init(uri: String) throws(Failure) {
        let location: ModelLocation
        do {
            location = try ModelLocation(parsing: uri)
        } catch {
            throw Failure(reason: error.description)
        }
        guard case .s3(let bucket, let key) = location else {
            throw Failure(reason: "'\(uri)' is not of the form s3://BUCKET/KEY")
        }
        // The sidecar key adds 7 bytes and must stay within S3's 1,024-byte key limit.
        guard key.utf8.count + ".sha256".utf8.count <= 1024 else {
            throw Failure(reason: "the key is too long: with '.sha256' appended it must fit S3's 1,024-byte limit")
        }
        self.bucket = bucket
        self.key = key
    }

    public var uri: String { "s3://\(bucket)/\(key)" }

    /// The checksum sidecar the runtime reads when the object has no `sha256` metadata.
    public var sidecarKey: String { key + ".sha256" }

    /// `arn:aws:s3:::BUCKET/KEY` with IAM's wildcards in the key escaped (`*` -> `${*}`,
    /// `?` -> `${?}`, `$` -> `${$}`), so the policy names this one object even when its
    /// key contains them. The partition is `aws`; in China or GovCloud regions it differs.
    public var objectARN: String { Self.arn(bucket: bucket, key: key) }
    public var sidecarARN: String { Self.arn(bucket: bucket, key: sidecarKey) }

    static func arn(bucket: String, key: String) -> String {
        var escaped = ""
        for scalar in key.unicodeScalars {
            switch scalar {
            case "*": escaped += "${*}"
            case "?": escaped += "${?}"
            case "$": escaped += "${$}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return "arn:aws:s3:::\(bucket)/\(escaped)"
    }
}
