/// How to reach S3 and how hard to pull: region, endpoint, addressing style,
/// parallel connections, part size, retries. Read from the same environment
/// variables the AWS SDKs use, so a function configured for them works unchanged.
public struct S3Configuration: Sendable {
    public var region: String
    /// nil: AWS itself (virtual-hosted style, path style for bucket names with dots).
    public var endpoint: S3Endpoint?
    /// Concurrent ranged GETs (connections).
    public var parallelism: Int
    public var partSize: Int64
    /// Retries of one part after its first attempt; each retry resumes where the last one stopped.
    public var maxRetriesPerPart: Int
    /// The first retry waits about this many seconds; each further retry doubles it (capped at 5 s, jittered).
    public var backoffBaseSeconds: Double
    /// Hash the file's completed prefix while parts are still arriving, instead of re-reading it all afterwards.
    public var hashWhileDownloading: Bool
    public var connectTimeoutSeconds: Int64
    /// A connection that delivers no byte for this long is dropped and the part resumed on a new one.
    public var readTimeoutSeconds: Int64

    public static let defaultParallelism = 8
    public static let defaultPartSize: Int64 = 16 << 20
    public static let defaultMaxRetriesPerPart = 5
    public static let defaultBackoffBaseSeconds = 0.1

    public init(region: String, endpoint: S3Endpoint? = nil, parallelism: Int = defaultParallelism,
                partSize: Int64 = defaultPartSize, maxRetriesPerPart: Int = defaultMaxRetriesPerPart,
                backoffBaseSeconds: Double = defaultBackoffBaseSeconds, hashWhileDownloading: Bool = true,
                connectTimeoutSeconds: Int64 = 10, readTimeoutSeconds: Int64 = 30) {
        self.region = region
        self.endpoint = endpoint
        self.parallelism = parallelism
        self.partSize = partSize
        self.maxRetriesPerPart = maxRetriesPerPart
        self.backoffBaseSeconds = backoffBaseSeconds
        self.hashWhileDownloading = hashWhileDownloading
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.readTimeoutSeconds = readTimeoutSeconds
    }

    /// AWS_REGION (else AWS_DEFAULT_REGION); AWS_ENDPOINT_URL_S3 (else AWS_ENDPOINT_URL) for an S3-compatible server.
    public static func fromEnvironment(_ env: [String: String]) throws(ModelSourceError) -> S3Configuration {
        func value(_ name: String) -> String? {
            guard let text = env[name]?.trimmingWhitespace(), !text.isEmpty else { return nil }
            return text
        }
        guard let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") else { throw .missingRegion }
        let endpoint = try (value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL")).map { text throws(ModelSourceError) in
            try S3Endpoint(parsing: text)
        }
        let configuration = S3Configuration(region: region, endpoint: endpoint)
        try configuration.validate()
        return configuration
    }

    /// Rejects settings that cannot work, naming the setting and its range.
    public func validate() throws(ModelSourceError) {
        guard !region.isEmpty, region.utf8.allSatisfy({ Self.isRegionByte($0) }) else {
            throw .invalidConfiguration("region '\(region)' should look like us-east-1")
        }
        guard (1...64).contains(parallelism) else {
            throw .invalidConfiguration("parallelism must be 1 to 64 connections (got \(parallelism))")
        }
        guard partSize >= 1 << 20, partSize <= 1 << 30 else {
            throw .invalidConfiguration("part size must be 1 MiB to 1024 MiB (got \(partSize) bytes)")
        }
        guard (0...50).contains(maxRetriesPerPart) else {
            throw .invalidConfiguration("retries per part must be 0 to 50 (got \(maxRetriesPerPart))")
        }
        guard backoffBaseSeconds >= 0, backoffBaseSeconds <= 10 else {
            throw .invalidConfiguration("backoff base must be 0 to 10 seconds (got \(backoffBaseSeconds))")
        }
        guard connectTimeoutSeconds > 0, readTimeoutSeconds > 0 else {
            throw .invalidConfiguration("timeouts must be positive")
        }
    }

    /// The URL, Host header and path of an object. AWS: virtual-hosted style
    /// (https://BUCKET.s3.REGION.amazonaws.com/KEY) unless the bucket name has dots,
    /// which the *.s3 TLS certificate cannot cover, so path style then. Keys are
    /// URI-encoded once, '/' kept, exactly as they will be signed.
    func address(bucket: String, key: String) -> S3ObjectAddress {
        let encodedKey = AWSURIEncoding.encode(key, keepSlash: true)
        if let endpoint {
            let path = "\(endpoint.basePath)/\(bucket)/\(encodedKey)"
            return S3ObjectAddress(url: endpoint.origin + path, path: path)
        }
        let domain = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        if bucket.contains(".") {
            let path = "/\(bucket)/\(encodedKey)"
            return S3ObjectAddress(url: "https://s3.\(region).\(domain)\(path)", path: path)
        }
        let path = "/\(encodedKey)"
        return S3ObjectAddress(url: "https://\(bucket).s3.\(region).\(domain)\(path)", path: path)
    }

    private static func isRegionByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "-")
    }
}

/// Where one object is requested: the full URL and its (encoded) path.
struct S3ObjectAddress: Equatable {
    var url: String
    var path: String
}
