/// A usage error: printed with the command's usage line, exit code 2.
package struct UsageError: Error, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// Command-line words split into options and positional arguments. Accepts `--opt value`,
/// `--opt=value`, `-D NAME`, `-DNAME`, `-I DIR`, `-IDIR`.
package struct Arguments {
    package var positional: [String] = []
    package var options: [(String, String?)] = []

    package init(_ words: [String], flags: Set<String>, valued: Set<String>) throws {
        var i = 0
        while i < words.count {
            let w = words[i]
            if w == "--" { positional.append(contentsOf: words[(i + 1)...]); break }
            if (w.hasPrefix("-D") || w.hasPrefix("-I")) && w.count > 2 {
                options.append((String(w.prefix(2)), String(w.dropFirst(2)))); i += 1; continue
            }
            if w.hasPrefix("-") && w != "-" {
                var name = w, value: String? = nil
                if let eq = w.firstIndex(of: "="), w.hasPrefix("--") { name = String(w[..<eq]); value = String(w[w.index(after: eq)...]) }
                if flags.contains(name) {
                    if value != nil { throw UsageError("option \(name) takes no value") }
                    options.append((name, nil)); i += 1; continue
                }
                if valued.contains(name) {
                    if value == nil {
                        guard i + 1 < words.count else { throw UsageError("option \(name) needs a value") }
                        value = words[i + 1]; i += 1
                    }
                    options.append((name, value)); i += 1; continue
                }
                throw UsageError("unknown option '\(name)'")
            }
            positional.append(w)
            i += 1
        }
    }

    package func has(_ n: String) -> Bool { options.contains { $0.0 == n } }
    package func last(_ n: String) -> String? { options.last { $0.0 == n }?.1 }
    package func all(_ n: String) -> [String] { options.filter { $0.0 == n }.compactMap(\.1) }

    package func int(_ n: String, default d: Int, min: Int = 0) throws -> Int {
        guard let s = last(n) else { return d }
        guard let v = Int(s), v >= min else { throw UsageError("\(n) needs an integer ≥ \(min), got '\(s)'") }
        return v
    }

    package func double(_ n: String) throws -> Double? {
        guard let s = last(n) else { return nil }
        guard let v = Double(s), v > 0 else { throw UsageError("\(n) needs a positive number of seconds, got '\(s)'") }
        return v
    }

    /// A size in bytes: `N`, `NK`, `NM`, `NG` (powers of 1024; decimals allowed, e.g. `1.5G`).
    package func bytes(_ n: String) throws -> Int? {
        guard let s = last(n) else { return nil }
        var digits = Substring(s)
        var unit = 1.0
        if let u = digits.last.map({ Character($0.uppercased()) }), let k = ["K": 1024.0, "M": 1048576.0, "G": 1073741824.0][u] {
            unit = k; digits = digits.dropLast()
        }
        guard let v = Double(digits), v > 0, v * unit >= 1, v * unit < 9e18 else {
            throw UsageError("\(n) needs a size such as 512M or 4G, got '\(s)'")
        }
        return Int(v * unit)
    }

    package func seed(_ n: String) throws -> UInt64? {
        guard let s = last(n) else { return nil }
        if s.hasPrefix("0x") || s.hasPrefix("0X") {
            guard let v = UInt64(s.dropFirst(2), radix: 16) else { throw UsageError("bad seed '\(s)'") }
            return v
        }
        guard let v = UInt64(s) else { throw UsageError("bad seed '\(s)'") }
        return v
    }
}
