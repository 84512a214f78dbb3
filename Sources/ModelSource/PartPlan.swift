/// Splits an object into the byte ranges fetched by parallel ranged GETs:
/// equal parts of `partSize`, a shorter last one, none for an empty object.
struct PartPlan: Equatable, Sendable {
    struct Part: Equatable, Sendable {
        let index: Int
        /// First byte, inclusive.
        let start: Int64
        /// Last byte, inclusive, as an HTTP Range names it.
        let end: Int64
        var length: Int64 { end - start + 1 }
    }

    let objectSize: Int64
    let partSize: Int64
    let parts: [Part]

    init(objectSize: Int64, partSize: Int64) {
        precondition(objectSize >= 0 && partSize > 0, "PartPlan needs a size >= 0 and a part size > 0")
        self.objectSize = objectSize
        self.partSize = partSize
        var parts: [Part] = []
        var start: Int64 = 0
        while start < objectSize {
            let end = min(start + partSize, objectSize) - 1
            parts.append(Part(index: parts.count, start: start, end: end))
            start = end + 1
        }
        self.parts = parts
    }
}
