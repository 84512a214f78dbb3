/// A GGUF file's key-value metadata, in file order, with typed accessors.
/// The plain accessors return nil when a key is missing or has another type;
/// the `require` ones throw an error that names the key and the file.
public struct GGUFMetadata: Sendable {
    /// Keys in the order the file lists them.
    public let keys: [String]
    /// The file these keys came from, for error messages.
    public let file: String
    private let values: [String: GGUFValue]

    /// Builds metadata directly, e.g. for tests of code that reads it.
    public init(_ entries: [(key: String, value: GGUFValue)], file: String = "<memory>") throws(GGUFError) {
        var keys: [String] = []
        var values: [String: GGUFValue] = [:]
        keys.reserveCapacity(entries.count)
        values.reserveCapacity(entries.count)
        for (key, value) in entries {
            guard values.updateValue(value, forKey: key) == nil else {
                throw GGUFError(file: file, problem: .duplicateKey(key))
            }
            keys.append(key)
        }
        self.init(keys: keys, values: values, file: file)
    }

    init(keys: [String], values: [String: GGUFValue], file: String) {
        self.keys = keys
        self.values = values
        self.file = file
    }

    public var count: Int { keys.count }

    /// These metadata without the arrays of more than `limit` elements (a tokenizer's
    /// tokens, merges, scores and types): as parsed values they cost tens of bytes
    /// per element, megabytes for a 50k vocabulary, which a holder that has already
    /// read them (into a tokenizer) need not keep for the life of the process.
    public func removingArrays(longerThan limit: Int) -> GGUFMetadata {
        let dropped = Set(keys.filter { (values[$0]?.arrayValue?.count ?? 0) > limit })
        guard !dropped.isEmpty else { return self }
        return GGUFMetadata(keys: keys.filter { !dropped.contains($0) },
                            values: values.filter { !dropped.contains($0.key) }, file: file)
    }

    public subscript(key: String) -> GGUFValue? { values[key] }

    public func contains(_ key: String) -> Bool { values[key] != nil }

    public func string(_ key: String) -> String? { values[key]?.stringValue }
    public func int(_ key: String) -> Int? { values[key]?.intValue }
    public func float(_ key: String) -> Double? { values[key]?.floatValue }
    public func bool(_ key: String) -> Bool? { values[key]?.boolValue }

    public func strings(_ key: String) -> [String]? {
        guard let elements = values[key]?.arrayValue else { return nil }
        var result: [String] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard case .string(let s) = element else { return nil }
            result.append(s)
        }
        return result
    }

    public func floats(_ key: String) -> [Float]? {
        guard let elements = values[key]?.arrayValue else { return nil }
        var result: [Float] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            switch element {
            case .float32(let v): result.append(v)
            default:
                guard let v = element.floatValue else { return nil }
                result.append(Float(v))
            }
        }
        return result
    }

    public func ints(_ key: String) -> [Int]? {
        guard let elements = values[key]?.arrayValue else { return nil }
        var result: [Int] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard let v = element.intValue else { return nil }
            result.append(v)
        }
        return result
    }

    public func requireString(_ key: String) throws(GGUFError) -> String {
        try require(key, expected: "string", string)
    }

    public func requireInt(_ key: String) throws(GGUFError) -> Int {
        try require(key, expected: "integer", int)
    }

    public func requireFloat(_ key: String) throws(GGUFError) -> Double {
        try require(key, expected: "number", float)
    }

    public func requireBool(_ key: String) throws(GGUFError) -> Bool {
        try require(key, expected: "bool", bool)
    }

    public func requireStrings(_ key: String) throws(GGUFError) -> [String] {
        try require(key, expected: "array of string", strings)
    }

    public func requireFloats(_ key: String) throws(GGUFError) -> [Float] {
        try require(key, expected: "array of numbers", floats)
    }

    public func requireInts(_ key: String) throws(GGUFError) -> [Int] {
        try require(key, expected: "array of integers", ints)
    }

    private func require<T>(_ key: String, expected: String, _ get: (String) -> T?) throws(GGUFError) -> T {
        guard let value = values[key] else {
            throw GGUFError(file: file, problem: .missingKey(key))
        }
        guard let typed = get(key) else {
            throw GGUFError(file: file, problem: .wrongType(key: key, expected: expected, found: value.typeName))
        }
        return typed
    }
}
