/// Priority order for `BinaryHeap`: `precedes(a, b)` is true when `a` must pop first.
protocol HeapOrdered {
    static func precedes(_ a: Self, _ b: Self) -> Bool
}

/// Array-backed binary heap whose storage is kept between uses (`removeAll`
/// keeps capacity), so encoding word after word does not allocate.
struct BinaryHeap<Element: HeapOrdered> {
    private var items: [Element] = []

    var isEmpty: Bool { items.isEmpty }

    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func push(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Element.precedes(items[child], items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            let count = items.count
            while true {
                let left = 2 * parent + 1
                if left >= count { break }
                var best = left
                let right = left + 1
                if right < count && Element.precedes(items[right], items[left]) { best = right }
                guard Element.precedes(items[best], items[parent]) else { break }
                items.swapAt(best, parent)
                parent = best
            }
        }
        return top
    }
}
