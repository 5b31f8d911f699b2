/// A JSON value with ordered object keys, so reports are byte-identical run to run.
public indirect enum JSON: Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSON])
    case object([(String, JSON)])

    public var text: String {
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
