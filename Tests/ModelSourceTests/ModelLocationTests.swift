import Testing
@testable import ModelSource

@Suite struct ModelLocationTests {
    @Test("s3 URLs split into bucket and a literal key")
    func s3() throws {
        #expect(try ModelLocation(parsing: "s3://my-models/llm/SmolLM2.gguf") == .s3(bucket: "my-models", key: "llm/SmolLM2.gguf"))
        #expect(try ModelLocation(parsing: "S3://b.with.dots/a b+c=d%20.gguf") == .s3(bucket: "b.with.dots", key: "a b+c=d%20.gguf"))
    }

    @Test("paths and file URLs are local files")
    func files() throws {
        #expect(try ModelLocation(parsing: "/opt/model/m.gguf") == .file("/opt/model/m.gguf"))
        #expect(try ModelLocation(parsing: "models/m.gguf") == .file("models/m.gguf"))
        #expect(try ModelLocation(parsing: "file:///opt/model/m.gguf") == .file("/opt/model/m.gguf"))
        #expect(try ModelLocation(parsing: "./odd://name") == .file("./odd://name"))
    }

    @Test("malformed s3 URLs fail with the reason", arguments: [
        ("s3://", "no bucket name"),
        ("s3://bucket", "no object key"),
        ("s3://bucket/", "no object key"),
        ("s3://bucket/dir/", "names a folder"),
        ("s3://Bucket/key", "lower-case"),
        ("s3://my_bucket/key", "lower-case"),
        ("s3://ab/key", "3 to 63"),
        ("s3://-bucket/key", "begin and end"),
        ("s3://a..b/key", "two dots"),
        ("https://example.com/m.gguf", "unsupported scheme 'https'"),
        ("file://relative", "absolute path"),
        ("", "empty"),
    ])
    func invalid(text: String, reason: String) {
        #expect {
            try ModelLocation(parsing: text)
        } throws: { error in
            let message = String(describing: error)
            return message.contains(reason) && message.contains("s3://bucket/key")
        }
    }
}
