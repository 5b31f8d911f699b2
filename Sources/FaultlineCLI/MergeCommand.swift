import Foundation
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
import FaultlineExplore
import FaultlineReport

/// `faultline merge`: shard reports back into the report one unsharded run gives.
struct MergeCommand {
    let args: Arguments
    init(_ words: [String]) throws {
        args = try Arguments(words, flags: CLI.traceFlags, valued: ["--format", "--width"])
    }

    struct Group {
        var file: String
        var defines: [String]
        var strategy: String
        var count: Int
        var parts: [Int: ShardData] = [:]
    }

    func run(_ output: Output) throws -> Int32 {
        guard !args.positional.isEmpty else { throw UsageError("expected shard reports (JSON, one object per line)") }
        let format = args.last("--format") ?? "text"
        guard format == "text" || format == "json" else { throw UsageError("--format must be text or json") }
        var groups: [Group] = []
        for path in args.positional {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw UsageError("cannot read \(path): \(FileSystemLoader.unreadable(path) ?? "not UTF-8")")
            }
            for (n, line) in text.split(separator: "\n").enumerated() where !line.allSatisfy(\.isWhitespace) {
                let where_ = "\(path):\(n + 1)"
                let doc: Schema.Report
                do { doc = try Schema.decodeReport(line) } catch { throw UsageError("\(where_): \(error)") }
                guard let shard = doc.shard, let parts = doc.parts else {
                    throw UsageError("\(where_): not a shard report (write it with 'faultline explore --shard I/N --format json')")
                }
                let (index, count, file, defines, strategy) = (shard.index, shard.count, doc.file, doc.defines, doc.strategy)
                guard count >= 1, count <= 1_000_000 else { throw UsageError("\(where_): field 'shard.count': \(count) is not in 1…1000000") }
                guard index >= 0, index < count else { throw UsageError("\(where_): field 'shard.index': \(index) is not in 0…\(count - 1)") }
                guard !file.isEmpty else { throw UsageError("\(where_): field 'file': empty") }
                guard StrategyName(rawValue: strategy) != nil else { throw UsageError("\(where_): field 'strategy': '\(strategy)' is not a strategy") }
                let d: ShardData
                do { d = try ShardData(parts: parts, strategy: strategy) } catch { throw UsageError("\(where_): \(error)") }
                var g = groups.firstIndex { $0.file == file && $0.defines == defines && $0.strategy == strategy }
                if g == nil { groups.append(Group(file: file, defines: defines, strategy: strategy, count: count)); g = groups.count - 1 }
                guard groups[g!].count == count else { throw UsageError("\(where_): shard count \(count), another report of \(file) says \(groups[g!].count)") }
                guard groups[g!].parts[index] == nil else { throw UsageError("\(where_): shard \(index)/\(count) of \(file) given twice") }
                groups[g!].parts[index] = d
            }
        }
        var worst: Int32 = 0
        for (i, g) in groups.enumerated() {
            let missing = (0..<g.count).filter { g.parts[$0] == nil }
            guard missing.isEmpty else {
                throw UsageError("\(g.file) \(g.defines.joined(separator: " ")): missing shard\(missing.count == 1 ? "" : "s") \(missing.map { "\($0)/\(g.count)" }.joined(separator: ", "))")
            }
            let parts = (0..<g.count).map { g.parts[$0]! }
            let first = parts[0]
            let defines = try g.defines.map { s -> Define in
                guard s.hasPrefix("-D"), let d = Define(parsing: String(s.dropFirst(2))) else { throw UsageError("bad define '\(s)' in a shard report") }
                return d
            }
            // The file is named by the report: a diagnostic from it would quote a file the user
            // may not have meant to show, so none is printed, only that it does not load.
            let program: Program
            do { program = try Frontend.load(path: g.file, defines: defines, includeDirs: first.includeDirs) } catch {
                output.error("faultline merge: \(g.file) (named by the shard reports) does not load as a race file with these defines\n")
                return ExitCode.badInput.rawValue
            }
            guard parts.allSatisfy({ $0.programHash == program.programHash }) else {
                output.error("faultline merge: \(g.file) has changed since the shards ran (program hash differs)\n")
                return ExitCode.badInput.rawValue
            }
            for (k, p) in parts.enumerated() {
                do { try p.validate(against: program) } catch { throw UsageError("\(g.file) shard \(k)/\(g.count): \(error)") }
            }
            let machine = Machine(program: program, maxSteps: first.maxSteps)
            var checker = ExecutionChecker(machine: machine)
            checker.checkLeaks = first.leakCheck
            let ctx = ExplorationContext(machine: machine, checker: checker)
            var result = mergeResults(parts.map(\.result), program: program)
            if first.shrink { result.shrinkViolations(ctx) }
            let report = RunReport(path: g.file, defines: defines, includeDirs: first.includeDirs, context: ctx, result: result)
            if format == "json" { output.print(report.json() + "\n") }
            else {
                if i > 0 { output.print("\n") }
                output.print(report.text(layout: try CLI.traceLayout(args)))
            }
            worst = ExitCode.worst(worst, !result.violations.isEmpty ? ExitCode.violation.rawValue
                                          : result.complete ? ExitCode.ok.rawValue : ExitCode.incomplete.rawValue)
        }
        return worst
    }
}
