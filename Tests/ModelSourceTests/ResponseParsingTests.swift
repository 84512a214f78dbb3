import Foundation
import Testing
@testable import ModelSource

@Suite struct ResponseParsingTests {
    @Test("S3 error documents give Code, Message and Region, and nothing else")
    func errorBody() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match &amp; so on</Message>\
            <CanonicalRequest>GET x-amz-security-token:SECRET</CanonicalRequest><Region>eu-west-1</Region></Error>
            """
        let body = S3ErrorBody(xml: Array(xml.utf8))
        #expect(body.code == "SignatureDoesNotMatch")
        #expect(body.message == "The request signature we calculated does not match & so on")
        #expect(body.region == "eu-west-1")
        #expect(S3ErrorBody(xml: Array("not xml".utf8)) == .empty)
    }

    @Test("Content-Range headers parse and malformed ones are refused")
    func contentRange() {
        #expect(ContentRange(header: "bytes 0-9/100") == ContentRange(start: 0, end: 9, total: 100))
        #expect(ContentRange(header: "bytes 5-5/*") == ContentRange(start: 5, end: 5, total: nil))
        for bad in ["bytes 9-0/100", "bytes 0-100/100", "items 0-9/100", "bytes -1-9/100", "bytes 0-9", ""] {
            #expect(ContentRange(header: bad) == nil)
        }
    }

    @Test("checksums are 64 hex digits; a sidecar's first token counts")
    func checksums() {
        let hex = String(repeating: "aB", count: 32)
        #expect(ExpectedChecksum.normalizedHex(" \(hex)\n") == hex.lowercased())
        #expect(ExpectedChecksum.normalizedHex(String(hex.dropLast())) == nil)
        #expect(ExpectedChecksum.normalizedHex(String(repeating: "g", count: 64)) == nil)
        #expect(ExpectedChecksum.sidecarToken(Array("\(hex)  model.gguf\n".utf8)) == hex)
        #expect(ExpectedChecksum.sidecarToken(Array("\(hex) *model.gguf".utf8)) == hex)
        #expect(ExpectedChecksum.sidecarToken([]) == "")
    }

    @Test("the local name is the key's last component; dot names are refused")
    func localNames() throws {
        #expect(try LocalPaths.fileName(forKey: "a/b/model.gguf", bucket: "bkt") == "model.gguf")
        #expect(try LocalPaths.fileName(forKey: "model.gguf", bucket: "bkt") == "model.gguf")
        #expect(throws: ModelSourceError.self) { try LocalPaths.fileName(forKey: "a/..", bucket: "bkt") }
        #expect(LocalPaths.partialPath(directory: "/tmp", name: "m.gguf").hasPrefix("/tmp/.m.gguf.part-\(getpid())-"))
    }
}
