import Testing
@testable import ModelSource

@Suite struct PartPlanTests {
    @Test("parts cover the object exactly, the last one ragged")
    func ragged() {
        let plan = PartPlan(objectSize: 10 * 1024 + 5, partSize: 1024)
        #expect(plan.parts.count == 11)
        #expect(plan.parts.first == PartPlan.Part(index: 0, start: 0, end: 1023))
        #expect(plan.parts.last == PartPlan.Part(index: 10, start: 10240, end: 10244))
        #expect(plan.parts.last?.length == 5)
        #expect(plan.parts.map(\.length).reduce(0, +) == plan.objectSize)
        for (a, b) in zip(plan.parts, plan.parts.dropFirst()) { #expect(b.start == a.end + 1) }
    }

    @Test("an exact multiple has no short part; a small object is one part")
    func exactAndSmall() {
        #expect(PartPlan(objectSize: 4096, partSize: 1024).parts.map(\.length) == [1024, 1024, 1024, 1024])
        #expect(PartPlan(objectSize: 1, partSize: 16 << 20).parts == [PartPlan.Part(index: 0, start: 0, end: 0)])
    }

    @Test("a zero-byte object needs no request at all")
    func empty() {
        #expect(PartPlan(objectSize: 0, partSize: 1024).parts.isEmpty)
    }
}
