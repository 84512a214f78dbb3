import Testing
@testable import ModelSource

@Suite struct S3ConfigurationTests {
    @Test("AWS: virtual-hosted style, and path style for bucket names with dots")
    func awsAddressing() throws {
        let configuration = try S3Configuration.fromEnvironment(["AWS_REGION": "eu-west-1"])
        #expect(configuration.endpoint == nil)
        #expect(configuration.address(bucket: "models", key: "dir/a b+c.gguf").url
            == "https://models.s3.eu-west-1.amazonaws.com/dir/a%20b%2Bc.gguf")
        #expect(configuration.address(bucket: "my.models", key: "m.gguf").url == "https://s3.eu-west-1.amazonaws.com/my.models/m.gguf")
        let china = S3Configuration(region: "cn-north-1")
        #expect(china.address(bucket: "b12", key: "k").url == "https://b12.s3.cn-north-1.amazonaws.com.cn/k")
    }

    @Test("an endpoint override means path style, and http is allowed")
    func endpointOverride() throws {
        let configuration = try S3Configuration.fromEnvironment([
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://ignored:1", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5000/",
        ])
        #expect(configuration.region == "us-east-1")
        #expect(configuration.address(bucket: "b12", key: "k/é.gguf")
            == S3ObjectAddress(url: "http://127.0.0.1:5000/b12/k/%C3%A9.gguf", path: "/b12/k/%C3%A9.gguf"))
        let generic = try S3Configuration.fromEnvironment(["AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "https://minio.local"])
        #expect(generic.address(bucket: "b12", key: "k").url == "https://minio.local/b12/k")
    }

    @Test("AWS_REGION wins over AWS_DEFAULT_REGION; neither is an error")
    func region() throws {
        #expect(try S3Configuration.fromEnvironment(["AWS_REGION": "ap-south-1", "AWS_DEFAULT_REGION": "us-east-1"]).region == "ap-south-1")
        #expect(throws: ModelSourceError.missingRegion) { try S3Configuration.fromEnvironment([:]) }
    }

    @Test("defaults: 8 connections, 16 MiB parts, 5 retries per part")
    func defaults() {
        let configuration = S3Configuration(region: "us-east-1")
        #expect(configuration.parallelism == 8)
        #expect(configuration.partSize == 16 << 20)
        #expect(configuration.maxRetriesPerPart == 5)
    }

    @Test("bad endpoints and settings are refused with the setting named")
    func invalid() {
        #expect {
            try S3Configuration.fromEnvironment(["AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": "ftp://host"])
        } throws: { String(describing: $0).contains("AWS_ENDPOINT_URL_S3") }
        #expect {
            try S3Configuration.fromEnvironment(["AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": "http://host:99999"])
        } throws: { String(describing: $0).contains("http://host:99999") }
        var configuration = S3Configuration(region: "us-east-1")
        configuration.parallelism = 0
        #expect { try configuration.validate() } throws: { String(describing: $0).contains("parallelism") }
        configuration = S3Configuration(region: "us-east-1", partSize: 1000)
        #expect { try configuration.validate() } throws: { String(describing: $0).contains("part size") }
    }
}
