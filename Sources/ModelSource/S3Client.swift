import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Signed requests for one object over AsyncHTTPClient, and the translation of S3's
/// answers into `ModelSourceError`s. Redirects are not followed (a signed request
/// is only valid for its own host; a 301 means the region is wrong). Text that
/// comes from outside (error bodies, transport errors) is scrubbed of credentials.
struct S3Client: Sendable {
    let http: HTTPClient
    let configuration: S3Configuration
    let credentials: AWSCredentials
    let signer: SigV4Signer
    let backoff: RetryBackoff

    init(http: HTTPClient, configuration: S3Configuration, credentials: AWSCredentials) {
        self.http = http
        self.configuration = configuration
        self.credentials = credentials
        signer = SigV4Signer(credentials: credentials, region: configuration.region)
        backoff = RetryBackoff(baseSeconds: configuration.backoffBaseSeconds)
    }

    /// One HTTP/1.1 connection per parallel part (S3 speaks no HTTP/2), no redirects, no decompression.
    static func makeHTTPClient(_ configuration: S3Configuration) -> HTTPClient {
        var settings = HTTPClient.Configuration()
        settings.redirectConfiguration = .disallow
        settings.decompression = .disabled
        settings.httpVersion = .http1Only
        settings.timeout = .init(connect: .seconds(configuration.connectTimeoutSeconds),
                                 read: .seconds(configuration.readTimeoutSeconds))
        settings.connectionPool = .init(idleTimeout: .seconds(60),
                                        concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.parallelism)
        // Failed connects come back to the part's own retry loop, which counts and backs off.
        settings.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: settings)
    }

    /// Why one attempt failed: worth another try (transport error, 5xx, cut-off body), or not.
    enum AttemptFailure: Error {
        case transient(String)
        case final(ModelSourceError)
    }

    func signedRequest(_ method: HTTPMethod, bucket: String, key: String,
                       headers: [(name: String, value: String)] = []) throws(AttemptFailure) -> HTTPClientRequest {
        let address = configuration.address(bucket: bucket, key: key)
        let signature: SigV4Signer.Signature
        do {
            signature = try signer.sign(method: method.rawValue, url: address.url, headers: headers,
                                        payloadSHA256: SigV4Signer.emptyPayloadSHA256, date: Date())
        } catch {
            throw .final(.invalidConfiguration(error.description))
        }
        var request = HTTPClientRequest(url: address.url)
        request.method = method
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        for header in signature.headersToAdd { request.headers.replaceOrAdd(name: header.name, value: header.value) }
        return request
    }

    func execute(_ request: HTTPClientRequest, bucket: String, key: String,
                 timeout: TimeAmount) async throws(AttemptFailure) -> HTTPClientResponse {
        do {
            return try await http.execute(request, timeout: timeout)
        } catch {
            if Task.isCancelled { throw .final(.cancelled(bucket: bucket, key: key)) }
            throw .transient(describe(error))
        }
    }

    /// HEAD the object: size, ETag and metadata. Retried on 5xx and transport errors.
    func head(bucket: String, key: String) async throws(ModelSourceError) -> (info: ObjectInfo, retries: Int) {
        try await withRetries(bucket: bucket, key: key) { () async throws(AttemptFailure) -> ObjectInfo in
            let response = try await execute(try signedRequest(.HEAD, bucket: bucket, key: key), bucket: bucket, key: key,
                                             timeout: .seconds(60))
            let status = Int(response.status.code)
            guard status == 200 else {
                if Self.isRetryable(status) { throw .transient("HEAD answered HTTP \(status)") }
                // A HEAD answer has no body; the same request as a one-byte GET says which error it is.
                throw .final(try await errorForHead(status: status, headers: response.headers, bucket: bucket, key: key))
            }
            guard let lengthText = response.headers.first(name: "content-length"), let size = Int64(lengthText), size >= 0 else {
                throw .final(.invalidResponse(bucket: bucket, key: key, reason: "HEAD gave no valid Content-Length"))
            }
            guard let etag = response.headers.first(name: "etag"), !etag.isEmpty else {
                throw .final(.invalidResponse(bucket: bucket, key: key, reason: "HEAD gave no ETag"))
            }
            return ObjectInfo(size: size, etag: etag, metadataSHA256: response.headers.first(name: "x-amz-meta-sha256"))
        }
    }

    /// The body of a small object (a checksum sidecar), at most `limit` bytes; nil when it does not exist.
    func smallObject(bucket: String, key: String, limit: Int) async throws(ModelSourceError) -> (bytes: [UInt8]?, retries: Int) {
        try await withRetries(bucket: bucket, key: key) { () async throws(AttemptFailure) -> [UInt8]? in
            let request = try signedRequest(.GET, bucket: bucket, key: key, headers: [("range", "bytes=0-\(limit - 1)")])
            let response = try await execute(request, bucket: bucket, key: key, timeout: .seconds(60))
            let status = Int(response.status.code)
            let body = try await collect(response, limit: max(limit, 64 << 10), bucket: bucket, key: key)
            switch status {
            case 200, 206:
                return Array(body.prefix(limit))
            case 416:
                return []  // an empty sidecar: no range of it exists
            case 404 where S3ErrorBody(xml: body).code != "NoSuchBucket":
                return nil
            default:
                if Self.isRetryable(status) { throw .transient("GET answered HTTP \(status)") }
                throw .final(failure(status: status, headers: response.headers, body: S3ErrorBody(xml: body),
                                     bucket: bucket, key: key, operation: "GET"))
            }
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or has used up the retries.
    func withRetries<T>(bucket: String, key: String,
                        _ attempt: () async throws(AttemptFailure) -> T) async throws(ModelSourceError) -> (T, Int) {
        var retries = 0
        while true {
            do throws(AttemptFailure) {
                return (try await attempt(), retries)
            } catch {
                switch error {
                case .final(let error):
                    throw error
                case .transient(let reason):
                    retries += 1
                    guard retries <= configuration.maxRetriesPerPart else {
                        throw .networkFailure(bucket: bucket, key: key, attempts: retries, lastError: reason)
                    }
                }
            }
            do { try await backoff.wait(beforeRetry: retries) } catch { throw .cancelled(bucket: bucket, key: key) }
        }
    }

    /// Reads a response body into memory, up to `limit` bytes (error documents, sidecars).
    func collect(_ response: HTTPClientResponse, limit: Int, bucket: String, key: String) async throws(AttemptFailure) -> [UInt8] {
        var bytes: [UInt8] = []
        do {
            for try await buffer in response.body {
                guard bytes.count + buffer.readableBytes <= limit else {
                    throw AttemptFailure.final(.invalidResponse(bucket: bucket, key: key, reason: "a response body exceeded \(limit) bytes"))
                }
                bytes += buffer.readableBytesView
            }
        } catch let failure as AttemptFailure {
            throw failure
        } catch {
            if Task.isCancelled { throw .final(.cancelled(bucket: bucket, key: key)) }
            throw .transient(describe(error))
        }
        return bytes
    }

    private func errorForHead(status: Int, headers: HTTPHeaders, bucket: String, key: String) async throws(AttemptFailure) -> ModelSourceError {
        var body = S3ErrorBody.empty
        if [400, 403, 404].contains(status),
           let request = try? signedRequest(.GET, bucket: bucket, key: key, headers: [("range", "bytes=0-0")]),
           let response = try? await execute(request, bucket: bucket, key: key, timeout: .seconds(30)),
           Int(response.status.code) == status,
           let bytes = try? await collect(response, limit: 64 << 10, bucket: bucket, key: key) {
            body = S3ErrorBody(xml: bytes)
        }
        return failure(status: status, headers: headers, body: body, bucket: bucket, key: key, operation: "HEAD")
    }

    /// The error for a non-retryable status; see `S3ErrorMapping`.
    func failure(status: Int, headers: HTTPHeaders, body: S3ErrorBody, bucket: String, key: String,
                 operation: String) -> ModelSourceError {
        S3ErrorMapping(configuredRegion: configuration.region, credentials: credentials)
            .error(status: status, bucketRegionHeader: headers.first(name: "x-amz-bucket-region"), body: body,
                   bucket: bucket, key: key, operation: operation)
    }

    /// 5xx (including 503 SlowDown) and 429 pass with time; everything else will not.
    static func isRetryable(_ status: Int) -> Bool { status >= 500 || status == 429 }

    func describe(_ error: any Error) -> String {
        credentials.redact(String(describing: error))
    }
}
