import Foundation
import Testing
import TestSupport

/// Asset-dependent tests skip when the cache is empty (a developer without the
/// set-up); under CI's LAMBDA_LLM_REQUIRE_ASSETS=1 a missing asset is a failure.
@Test("every cached test asset exists when the suite requires assets")
func requiredAssetsArePresent() {
    guard TestAssets.required else { return }
    let needed = [TestAssets.smolLM2, TestAssets.vocab("llama-spm"), TestAssets.vocab("gpt-2")]
    for url in needed {
        #expect(TestAssets.has(url), "missing test asset \(url.path): run scripts/setup-assets")
    }
}
