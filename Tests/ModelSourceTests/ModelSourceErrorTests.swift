import Testing
@testable import ModelSource

@Suite struct ModelSourceErrorTests {
    @Test("not-found and access-denied errors name bucket and key")
    func namesObject() {
        #expect(ModelSourceError.objectNotFound(bucket: "bkt", key: "a/m.gguf").description.contains("s3://bkt/a/m.gguf"))
        #expect(ModelSourceError.bucketNotFound(bucket: "bkt", key: "m.gguf").description.contains("bucket 'bkt' does not exist"))
        let denied = ModelSourceError.accessDenied(bucket: "bkt", key: "m.gguf", code: "AccessDenied", message: "Access Denied")
        #expect(denied.description.contains("access denied to s3://bkt/m.gguf (AccessDenied: Access Denied)"))
    }

    @Test("a missing checksum explains both ways to provide one")
    func noChecksum() {
        let text = ModelSourceError.noChecksum(bucket: "bkt", key: "m.gguf").description
        #expect(text.contains("--metadata sha256="))
        #expect(text.contains("s3://bkt/m.gguf.sha256"))
    }

    @Test("a mismatch shows expected and actual")
    func mismatch() {
        let text = ModelSourceError.checksumMismatch(bucket: "b", key: "k", expected: "aa", actual: "bb").description
        #expect(text.contains("expected sha256 aa, got bb"))
    }

    @Test("a network failure counts its attempts in words that read right for one (--max-retries 0) and for several")
    func attemptCount() {
        let one = ModelSourceError.networkFailure(bucket: "b", key: "k", attempts: 1, lastError: "reset").description
        #expect(one.contains("failed after 1 attempt (no retries): reset"), "\(one)")
        let three = ModelSourceError.networkFailure(bucket: "b", key: "k", attempts: 3, lastError: "reset").description
        #expect(three.contains("failed after 3 attempts: reset"), "\(three)")
    }

    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let token = "FwoGZXIvYXdzEXAMPLETOKEN"
    static let mapping = S3ErrorMapping(configuredRegion: "us-east-1",
                                        credentials: AWSCredentials(accessKeyID: "ASIA", secretAccessKey: secret, sessionToken: token))

    @Test("a credential echoed where the shown text is cut short is still redacted (fuzz regression: s3/token-cut-by-message-truncation)")
    func redactsBeforeTruncating() {
        let long = String(repeating: "Access denied. ", count: 19) + "Token was \(Self.token)."
        let code = String(repeating: "C", count: 90) + Self.secret
        for body in [S3ErrorBody(code: "AccessDenied", message: long, region: nil), S3ErrorBody(code: code, message: "", region: nil)] {
            for status in [403, 400, 500] {
                let text = Self.mapping.error(status: status, bucketRegionHeader: nil, body: body, bucket: "b", key: "k", operation: "GET").description
                for secret in [Self.secret, Self.token] {
                    #expect(!text.contains(secret.prefix(8)), "\(status): \(text)")
                }
            }
        }
    }

    @Test("a region header or element echoing a credential is redacted in the wrong-region message")
    func redactsRegions() {
        let header = Self.mapping.error(status: 301, bucketRegionHeader: "eu-\(Self.token)", body: .empty, bucket: "b", key: "k", operation: "HEAD")
        let element = Self.mapping.error(status: 400, bucketRegionHeader: nil,
                                         body: S3ErrorBody(code: "AuthorizationHeaderMalformed", message: "", region: Self.secret),
                                         bucket: "b", key: "k", operation: "GET")
        for error in [header, element] {
            #expect(!error.description.contains(Self.token) && !error.description.contains(Self.secret), "\(error)")
        }
    }

    @Test("S3 statuses and codes map to errors that say what to fix, without credentials")
    func mapping() {
        let echo = S3ErrorBody(code: "SignatureDoesNotMatch", message: "signed with \(Self.secret) and \(Self.token)", region: nil)
        let denied = Self.mapping.error(status: 403, bucketRegionHeader: nil, body: echo, bucket: "b", key: "k", operation: "GET")
        #expect(denied == .accessDenied(bucket: "b", key: "k", code: "SignatureDoesNotMatch",
                                        message: "signed with <redacted> and <redacted>"))
        #expect(!denied.description.contains(Self.secret) && !denied.description.contains(Self.token))
        #expect(Self.mapping.error(status: 403, bucketRegionHeader: nil, body: .empty, bucket: "b", key: "k", operation: "HEAD")
            == .accessDenied(bucket: "b", key: "k", code: "AccessDenied", message: ""))
        #expect(Self.mapping.error(status: 404, bucketRegionHeader: nil, body: S3ErrorBody(code: "NoSuchBucket", message: "", region: nil),
                                   bucket: "b", key: "k", operation: "GET") == .bucketNotFound(bucket: "b", key: "k"))
        #expect(Self.mapping.error(status: 404, bucketRegionHeader: nil, body: .empty, bucket: "b", key: "k", operation: "HEAD")
            == .objectNotFound(bucket: "b", key: "k"))
        #expect(Self.mapping.error(status: 301, bucketRegionHeader: "eu-central-1", body: .empty, bucket: "b", key: "k", operation: "HEAD")
            == .wrongRegion(bucket: "b", bucketRegion: "eu-central-1", configuredRegion: "us-east-1"))
        #expect(Self.mapping.error(status: 412, bucketRegionHeader: nil, body: .empty, bucket: "b", key: "k", operation: "GET")
            == .objectChanged(bucket: "b", key: "k"))
        #expect(Self.mapping.error(status: 400, bucketRegionHeader: nil, body: .empty, bucket: "b", key: "k", operation: "GET")
            == .unexpectedStatus(bucket: "b", key: "k", operation: "GET", status: 400, code: "", message: ""))
    }
}
