import FaultlineLanguage
import FaultlineMachine

/// Names memory the way the source does, for traces and violation messages: every cell by its
/// object and field (`vma.vm_start`, `page#13._mapcount`, `pte#7[1]`, `do_fault#12.vmf`), and
/// every value by the declared type of the cell it sits in (pointers as `&object.field`,
/// integers in decimal, flag fields in hex, typedefs with a `__format_T` function in the race
/// language through that function).
package struct Namer {
    package let machine: Machine
    package let state: State
    var program: Program { machine.program }
    /// Functions that own a stack frame object, by the location their frames are allocated at.
    let frameOwners: [Int32: Int]
    /// Trace formatters declared in the race language, by typedef name.
    let formatters: [String: Int]

    package init(machine: Machine, state: State) {
        self.machine = machine
        self.state = state
        var owners: [Int32: Int] = [:]
        var formatters: [String: Int] = [:]
        for (i, f) in machine.program.functions.enumerated() {
            if f.frameSize > 0, let l = f.locations.first { owners[l] = i }
            if f.name.hasPrefix(Namer.formatterPrefix), f.parameterCount == 1 {
                formatters[String(f.name.dropFirst(Namer.formatterPrefix.count))] = i
            }
        }
        frameOwners = owners
        self.formatters = formatters
    }

    /// A function `__format_pte_t(pte_t v)` decides how a `pte_t` reads (see docs/language.md).
    package static let formatterPrefix = "__format_"

    // MARK: objects

    /// The declared type of a whole object, when the source says it.
    func objectType(_ o: Int) -> CType? {
        guard o > 0, o < state.objects.count else { return nil }
        let m = state.objects[o]
        switch m.origin {
        case .global: return program.globals[o - 1].type
        case .heap, .page: return program.allocationTypes[m.allocLocation]
        case .stack: return nil
        }
    }

    /// `swap`, `page#13`, `pte#7`, `spinlock#9`, `kmalloc#3`, `do_fault#12`.
    package func objectName(_ o: Int) -> String {
        guard o > 0, o < state.objects.count else { return "object#\(o)" }
        let m = state.objects[o]
        switch m.origin {
        case .global: return program.globals[o - 1].name
        case .heap, .page:
            if let t = objectType(o), let n = shortName(t) { return "\(n)#\(o)" }
            return m.origin == .page ? "page#\(o)" : "kmalloc#\(o)"
        case .stack:
            let f = frameOwners[m.allocLocation].map { program.functions[$0].name } ?? "P\(m.owner)"
            return "\(f)#\(o)"
        }
    }

    /// What an object is, for messages: `page#13 (a struct page page)`, `kmalloc#3`.
    package func objectDescription(_ o: Int) -> String {
        guard o > 0, o < state.objects.count else { return objectName(o) }
        let m = state.objects[o]
        switch m.origin {
        case .stack: return "\(objectName(o)) (a stack frame of P\(m.owner))"
        default: return objectName(o)
        }
    }

    /// `struct page` → `page`, `pte_t` → `pte`, `spinlock_t` → `spinlock`; nil for plain
    /// integers (`int`, `atomic_t`, `u64`) and pointers.
    func shortName(_ t: CType) -> String? {
        guard var n = t.nominalName(structs: program.file.structs) else { return nil }
        if case .named(let name, let u) = t, case .int = u.resolved, Parser.builtinTypedefs.contains(name), !name.contains("lock") { return nil }
        if n.hasPrefix("struct ") { n.removeFirst(7) }
        if n.hasSuffix("_t") { n.removeLast(2) }
        return n
    }

    // MARK: cells

    /// The name of the cell at `a` and its declared type (nil when unknown): `vma.vm_start`,
    /// `pte#7[1]`, `NULL`, `0x5003` (an address of no object).
    package func cell(_ a: Int64) -> (name: String, type: CType?, field: String) {
        if a == 0 { return ("NULL", nil, "") }
        let o = Address.object(a), off = Address.offset(a)
        guard a > 0, o > 0, o < state.objects.count else { return (Namer.hex(a), nil, "") }
        let base = objectName(o)
        let m = state.objects[o]
        let type = objectType(o)
        if m.origin == .stack, let fi = frameOwners[m.allocLocation] {
            guard let f = program.functions[fi].frameFields.last(where: { $0.offset <= off }) else { return ("\(base)+\(off)", nil, "") }
            let (suffix, leaf, field) = path(f.type, off - f.offset)
            return ("\(base).\(f.name)\(suffix)", leaf, field.isEmpty ? f.name : field)
        }
        guard var t = type else { return (off == 0 ? base : "\(base)[\(off)]", nil, "") }
        // A page or kcalloc'd block of elements smaller than the object: an array of them
        // (a struct's first element goes without its index: `page#4.mapcount`).
        let size = max(1, Layout.size(of: t, structs: program.file.structs))
        if m.origin != .global && size < Int(m.size) && (!t.isStruct || off >= size) {
            t = .array(t, Int(m.size) / size)
        }
        let (suffix, leaf, field) = path(t, off)
        return (base + suffix, leaf, field)
    }

    /// Walks a type down to the scalar at `offset`: (`.vm_start`, its type, `vm_start`).
    func path(_ type: CType, _ offset: Int) -> (String, CType?, String) {
        var t = type, rem = offset, suffix = "", field = ""
        let structs = program.file.structs
        while true {
            switch t.resolved {
            case .array(let el, _):
                let sz = max(1, Layout.size(of: el, structs: structs))
                suffix += "[\(rem / sz)]"; rem %= sz; t = el
            case .structure(let si):
                guard structs[si].complete, let f = structs[si].fields.last(where: { $0.offset <= rem }) else {
                    return (suffix + (rem > 0 ? "+\(rem)" : ""), t, field)
                }
                suffix += ".\(f.name)"; field = f.name; rem -= f.offset; t = f.type
            default:
                return (suffix + (rem > 0 ? "+\(rem)" : ""), t, field)
            }
        }
    }

    // MARK: values

    /// A value as the cell at `address` declares it.
    package func value(_ v: Int64, at address: Int64) -> String {
        let c = cell(address)
        return value(v, type: c.type, field: c.field)
    }

    /// A value by type: a formatter's text, `&object.field` for pointers, hex for flag fields.
    package func value(_ v: Int64, type: CType?, field: String = "") -> String {
        guard let type else { return guessed(v) }
        var t: CType? = type
        while let n = t {
            if case .named(let name, let u) = n {
                if let f = formatters[name], let text = format(f, v) { return text }
                t = u
            } else { t = nil }
        }
        switch type.resolved {
        case .pointer(let pointee): return pointer(v, pointee: pointee)
        case .int:
            if field == "flags" || field.hasSuffix("_flags") { return Namer.hex(v) }
            return String(v)
        default: return guessed(v)
        }
    }

    /// A pointer: `NULL`, `&object` (to an object's start, unless it points to a scalar),
    /// `&object.field`, or hex when it names no live cell.
    package func pointer(_ v: Int64, pointee: CType? = nil) -> String {
        if v == 0 { return "NULL" }
        let o = Address.object(v)
        guard v > 0, o > 0, o < state.objects.count, Address.offset(v) < Int(max(state.objects[o].size, 1)) else { return Namer.hex(v) }
        if Address.offset(v) == 0 && !(pointee?.isScalar ?? false) { return "&" + objectName(o) }
        return "&" + cell(v).name
    }

    /// A value of unknown type: an address of a live object reads as a pointer.
    func guessed(_ v: Int64) -> String {
        let o = Address.object(v)
        if v > 0 && o > 0 && o < state.objects.count && Address.offset(v) < Int(max(state.objects[o].size, 1)) { return pointer(v) }
        return String(v)
    }

    /// Runs the race language's formatter on a value: the concatenated `pr_cont` text.
    func format(_ function: Int, _ v: Int64) -> String? {
        formatWithPointees(function, v)?.0
    }

    /// The formatter's text and the objects its `%p` arguments name.
    func formatWithPointees(_ function: Int, _ v: Int64) -> (String, [Int])? {
        guard let parts = machine.runFormatter(function: function, argument: v, on: state) else { return nil }
        var out = ""
        var pointees: [Int] = []
        for p in parts {
            let f = program.strings[Int(p.format)]
            out += render(f, p.arguments)
            pointees += pointerArguments(f, p.arguments).map(Address.object)
        }
        return out.isEmpty ? nil : (out, pointees)
    }

    /// The arguments a format prints with `%p`.
    func pointerArguments(_ format: String, _ args: [Int64]) -> [Int64] {
        var out: [Int64] = [], next = 0
        var it = format.makeIterator()
        while let c = it.next() {
            guard c == "%" else { continue }
            var spec = ""
            while let d = it.next() { spec.append(d); if d.isLetter && d != "l" || d == "%" { break } }
            if spec == "%" { continue }
            if spec.last == "p", next < args.count, args[next] > 0 { out.append(args[next]) }
            next += 1
        }
        return out
    }

    /// The typedef whose formatter a type reads through, if any.
    package func formatterName(_ type: CType) -> String? {
        var t: CType? = type
        while let n = t {
            guard case .named(let name, let u) = n else { return nil }
            if formatters[name] != nil { return name }
            t = u
        }
        return nil
    }

    /// A value through its type's formatter, with the objects it points at.
    package func formatted(_ v: Int64, type: CType) -> (String, [Int]) {
        if let name = formatterName(type), let f = formatters[name], let r = formatWithPointees(f, v) { return r }
        return (value(v, type: type), [])
    }

    /// Whether an object is a table of values read through a formatter (a page table, in
    /// mm.h's model): a global array, or an allocation, of such a type.
    package func hasFormattedCells(_ o: Int) -> Bool {
        guard o > 0, o < state.objects.count, state.objects[o].origin != .stack, var t = objectType(o) else { return false }
        while case .array(let el, _) = t.resolved { t = el }
        return formatterName(t) != nil
    }

    /// The language's lock types: `spinlock_t` (and `raw_`, `arch_`), `struct mutex`, `struct rw_semaphore`.
    package func isLock(_ t: CType) -> Bool {
        guard let n = t.nominalName(structs: program.file.structs) else { return false }
        return n.hasSuffix("spinlock_t") || n == "struct mutex" || n == "struct rw_semaphore"
    }

    /// Who holds a lock cell (nil when free): `P1`, `P0 (write)`, `2 readers`.
    package func lockHolder(_ t: CType, _ v: Int64) -> String? {
        guard v != 0 else { return nil }
        if t.nominalName(structs: program.file.structs) == "struct rw_semaphore" {
            if RWSem.writer(v) > 0 { return "P\(RWSem.writer(v) - 1) (write)" }
            let r = RWSem.readers(v)
            return r > 0 ? "\(r) reader\(r == 1 ? "" : "s")" : nil
        }
        return "P\(v - 1)"
    }

    /// printf-style: `%d %u %ld %lu` decimal, `%x %lx` hex (with 0x), `%p` the object a pointer
    /// names (`page#13`; the cell when it points inside one: `pte#7[2]`), `%%`.
    func render(_ format: String, _ args: [Int64]) -> String {
        var out = "", next = 0
        var it = format.makeIterator()
        while let c = it.next() {
            guard c == "%" else { out.append(c); continue }
            var spec = ""
            while let d = it.next() {
                spec.append(d)
                if d.isLetter && d != "l" || d == "%" { break }
            }
            if spec == "%" { out += "%"; continue }
            let v = next < args.count ? args[next] : 0
            next += 1
            switch spec.last {
            case "x": out += Namer.hex(v)
            case "p": out += v == 0 ? "NULL" : Address.offset(v) == 0 && Address.object(v) < state.objects.count ? objectName(Address.object(v)) : cell(v).name
            default: out += String(v)
            }
        }
        return out
    }

    static func hex(_ a: Int64) -> String { "0x" + String(UInt64(bitPattern: a), radix: 16) }
}
