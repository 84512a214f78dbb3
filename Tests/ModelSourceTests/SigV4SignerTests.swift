import Foundation
import Testing
@testable import ModelSource

/// The signer against AWS's published S3 examples ("Examples: Signature Calculations in
/// AWS Signature Version 4", examplebucket, 20130524T000000Z) and S3's encoding rules.
@Suite struct SigV4SignerTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE",
                                            secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
    static let date = SigV4Signer.parseAMZDate("20130524T000000Z")!
    static let empty = SigV4Signer.emptyPayloadSHA256

    static func signature(_ s: SigV4Signer.Signature) -> String {
        String(s.authorization.split(separator: "=").last ?? "")
    }

    @Test("GET object with Range bytes=0-9 matches AWS's example signature")
    func getObjectExample() throws {
        let s = try Self.signer.sign(method: "GET", url: "https://examplebucket.s3.amazonaws.com/test.txt",
                                     headers: [("Range", "bytes=0-9")], payloadSHA256: Self.empty, date: Self.date)
        #expect(s.authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(s.canonicalRequest == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(s.stringToSign == """
            AWS4-HMAC-SHA256
            20130524T000000Z
            20130524/us-east-1/s3/aws4_request
            7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
            """)
    }

    @Test("PUT object with a '$' in the key, a Date and a storage class matches AWS's example")
    func putObjectExample() throws {
        let payload = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"  // "Welcome to Amazon S3."
        let s = try Self.signer.sign(method: "PUT", url: "https://examplebucket.s3.amazonaws.com/test$file.text",
                                     headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
                                     payloadSHA256: payload, date: Self.date)
        #expect(s.canonicalRequest.split(separator: "\n")[1] == "/test%24file.text")
        #expect(s.signedHeaderNames == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class")
        #expect(Self.signature(s) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test("GET bucket lifecycle (a query name without a value) matches AWS's example")
    func lifecycleExample() throws {
        let s = try Self.signer.sign(method: "GET", url: "https://examplebucket.s3.amazonaws.com/?lifecycle",
                                     headers: [], payloadSHA256: Self.empty, date: Self.date)
        #expect(s.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "lifecycle=")
        #expect(Self.signature(s) == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test("list objects with an unsorted query string matches AWS's example")
    func listObjectsExample() throws {
        let s = try Self.signer.sign(method: "GET", url: "https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2",
                                     headers: [], payloadSHA256: Self.empty, date: Self.date)
        #expect(s.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "max-keys=2&prefix=J")
        #expect(Self.signature(s) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test("a session token is sent and signed as x-amz-security-token")
    func sessionToken() throws {
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "secret",
                                                             sessionToken: "token/with+chars="),
                                 region: "eu-west-1")
        let s = try signer.sign(method: "HEAD", url: "https://b.s3.eu-west-1.amazonaws.com/k", headers: [],
                                payloadSHA256: Self.empty, date: Self.date)
        #expect(s.signedHeaderNames == "host;x-amz-content-sha256;x-amz-date;x-amz-security-token")
        #expect(s.canonicalRequest.contains("\nx-amz-security-token:token/with+chars=\n"))
        #expect(s.headersToAdd.contains { $0.name == "x-amz-security-token" && $0.value == "token/with+chars=" })
        #expect(s.headersToAdd.last?.name == "authorization")
    }

    @Test("keys with spaces, unicode, '+', '=' and '/' are encoded once, '/' kept")
    func keyEncoding() throws {
        let raw = try Self.signer.sign(method: "GET", url: "http://127.0.0.1:9000/bucket/dir/my model+v=1 é.gguf",
                                       headers: [], payloadSHA256: Self.empty, date: Self.date)
        let encoded = try Self.signer.sign(method: "GET", url: "http://127.0.0.1:9000/bucket/dir/my%20model%2Bv%3D1%20%C3%A9.gguf",
                                           headers: [], payloadSHA256: Self.empty, date: Self.date)
        #expect(raw.canonicalRequest.split(separator: "\n")[1] == "/bucket/dir/my%20model%2Bv%3D1%20%C3%A9.gguf")
        #expect(raw == encoded)
        #expect(raw.canonicalRequest.contains("\nhost:127.0.0.1:9000\n"))
    }

    @Test("the default port is left out of the Host header and header values are trimmed")
    func hostAndTrim() throws {
        let s = try Self.signer.sign(method: "get", url: "https://Bucket.S3.amazonaws.com:443/k",
                                     headers: [("X-Custom", "  a   b  ")], payloadSHA256: Self.empty, date: Self.date)
        #expect(s.canonicalRequest.hasPrefix("GET\n/k\n\n"))
        #expect(s.canonicalRequest.contains("\nhost:bucket.s3.amazonaws.com\n"))
        #expect(s.canonicalRequest.contains("\nx-custom:a b\n"))
    }

    @Test("query names and values are encoded and sorted by name, then value")
    func querySorting() {
        #expect(SigV4Signer.canonicalQuery("b=2&a=z&a=y&c") == "a=y&a=z&b=2&c=")
        #expect(SigV4Signer.canonicalQuery("prefix=a b/c&x=%2F") == "prefix=a%20b%2Fc&x=%2F")
    }

    @Test("a URL that is not absolute http(s) is refused")
    func badURL() {
        #expect(throws: SigV4Signer.SigningError.self) {
            try Self.signer.sign(method: "GET", url: "/just/a/path", headers: [], payloadSHA256: Self.empty, date: Self.date)
        }
    }

    @Test("amz dates parse and format in UTC and reject impossible dates")
    func amzDate() {
        #expect(AMZDate(Self.date).full == "20130524T000000Z")
        #expect(AMZDate(Date(timeIntervalSince1970: 1_709_210_096)).full == "20240229T123456Z")
        #expect(SigV4Signer.parseAMZDate("20130231T000000Z") == nil)
        #expect(SigV4Signer.parseAMZDate("2013-05-24T00:00:00Z") == nil)
    }
}
