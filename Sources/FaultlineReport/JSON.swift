/// A JSON value with ordered object keys, so reports are byte-identical run to run.
package indirect enum JSON: Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSON])
    case object([(String, JSON)])

    package var text: String {
        var out = ""
        write(&out)
        return out
    }

    func write(_ out: inout String) {
        switch self {
        case .string(let s): JSON.quote(s, &out)
        case .int(let i): out += String(i)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let xs):
            out += "["
            for (i, x) in xs.enumerated() { if i > 0 { out += "," }; x.write(&out) }
            out += "]"
        case .object(let kvs):
            out += "{"
            for (i, (k, v)) in kvs.enumerated() {
                if i > 0 { out += "," }
                JSON.quote(k, &out); out += ":"; v.write(&out)
            }
            out += "}"
        }
    }

    static func quote(_ s: String, _ out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else { out.unicodeScalars.append(u) }
            }
        }
        out += "\""
    }
}

/// A hand-built JSON value inside a Codable document (the LKMM witness).
extension JSON: Codable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }

    package init(from decoder: Decoder) throws {
        if let o = try? decoder.container(keyedBy: Key.self) {
            self = .object(try o.allKeys.sorted { $0.stringValue < $1.stringValue }.map { ($0.stringValue, try o.decode(JSON.self, forKey: $0)) })
            return
        }
        if var a = try? decoder.unkeyedContainer() {
            var xs: [JSON] = []
            while !a.isAtEnd { xs.append(try a.decode(JSON.self)) }
            self = .array(xs)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else { self = .string(try c.decode(String.self)) }
    }

    package func encode(to encoder: Encoder) throws {
        switch self {
        case .object(let kvs):
            var c = encoder.container(keyedBy: Key.self)
            for (k, v) in kvs { try c.encode(v, forKey: Key(stringValue: k)) }
        case .array(let xs):
            var c = encoder.unkeyedContainer()
            for x in xs { try c.encode(x) }
        case .string(let s): var c = encoder.singleValueContainer(); try c.encode(s)
        case .int(let i): var c = encoder.singleValueContainer(); try c.encode(i)
        case .bool(let b): var c = encoder.singleValueContainer(); try c.encode(b)
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        }
    }
}
