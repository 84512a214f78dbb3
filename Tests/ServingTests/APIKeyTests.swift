import Serving
import Testing

@Suite("APIKey")
struct APIKeyTests {
    @Test("whitespace-only keys are blank; empty and real keys are not")
    func blankness() {
        for blank in [" ", "\t", "  \n", "\u{00A0}"] { #expect(APIKey.isBlank(blank), "\(blank.debugDescription)") }
        for notBlank in ["", "k", " key ", "sk-123"] { #expect(!APIKey.isBlank(notBlank), "\(notBlank.debugDescription)") }
    }

    @Test("only the exact bearer key is accepted")
    func bearer() throws {
        let key = try #require(APIKey("sk-secret"))
        #expect(key.accepts(authorization: "Bearer sk-secret"))
        for wrong in [nil, "", "sk-secret", "Bearer sk-secre", "Bearer sk-secret2", "bearer sk-secret", "Basic sk-secret"] {
            #expect(!key.accepts(authorization: wrong), "\(String(describing: wrong))")
        }
        #expect(APIKey("") == nil && APIKey(nil) == nil)
    }
}
