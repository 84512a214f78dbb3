import Testing
@testable import ModelSource

@Suite struct AWSCredentialsTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let token = "IQoJb3JpZ2luX2VjEXAMPLETOKEN//////////wEaCXVzLWVhc3QtMSJHMEUCIQ"

    @Test("every printed form hides the secret key and the session token")
    func redactedDescriptions() {
        let credentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: Self.secret, sessionToken: Self.token)
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, credentials.debugDescription, "\(credentials)", String(reflecting: credentials), dumped] {
            #expect(!text.contains(Self.secret))
            #expect(!text.contains(Self.token))
            #expect(text.contains("<redacted>"))
        }
        #expect(credentials.description.contains("AKIA...MPLE"))
    }

    @Test("redact scrubs the secret and token out of foreign text")
    func redactText() {
        let credentials = AWSCredentials(accessKeyID: "AKIA", secretAccessKey: Self.secret, sessionToken: Self.token)
        let text = credentials.redact("x-amz-security-token:\(Self.token)\nkey \(Self.secret) end")
        #expect(text == "x-amz-security-token:<redacted>\nkey <redacted> end")
    }

    @Test("the environment gives key, secret and an optional session token")
    func fromEnvironment() throws {
        let credentials = try AWSCredentials.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "",
        ])
        #expect(credentials.accessKeyID == "AKIA1")
        #expect(credentials.sessionToken == nil)
        let withToken = try AWSCredentials.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "ASIA1", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
        ])
        #expect(withToken.sessionToken == "t")
    }

    @Test("missing credentials name the missing variables")
    func missing() {
        #expect(throws: ModelSourceError.missingCredentials(variables: ["AWS_SECRET_ACCESS_KEY"])) {
            try AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKIA1"])
        }
        #expect(throws: ModelSourceError.missingCredentials(variables: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"])) {
            try AWSCredentials.fromEnvironment([:])
        }
    }
}
