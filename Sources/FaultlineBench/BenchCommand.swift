import Foundation
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
import FaultlineExplore
import FaultlineCLI
import AllocationCounter

/// `faultline-bench`: measures one group of race files (or one race configuration) and prints
/// one Markdown table row: executions under dfs and dpor, distinct Mazurkiewicz traces (so the
/// redundancy of the reduction: complete executions per trace) and sleep-blocked partial executions, distinct states (bfs), dpor wall time, steps/s, peak memory and
/// the speed-up of `--jobs 2`. `make bench` runs it per race configuration and per kernel litmus
/// group (one process each, so the peak memory is that group's) and writes docs/benchmarks.md.
struct BenchCommand {
    static let help = """
    OVERVIEW: Measure a group of race files (or one configuration) and print one Markdown table
    row: executions under dfs and dpor, distinct Mazurkiewicz traces, the redundancy of the
    reduction (dpor executions / traces), sleep-blocked partial executions (and as a share of the
    complete ones), distinct states (bfs), dpor wall time,
    steps/s, peak memory (of this process, measured right after the dpor run), and the speed-up of
    --jobs 2. 'make bench' runs it per race configuration and per kernel litmus group.

    USAGE: faultline-bench <file>... [-D NAME[=VALUE]]... [--label TEXT] [--timeout SECONDS] [--model lkmm]
           faultline-bench --header [--model lkmm]
           faultline-bench --allocations <file>... [-D NAME[=VALUE]]...

    OPTIONS:
      --label TEXT            the row's first column (default: the first file)
      --timeout SECONDS       limit per file for dfs and bfs (default 10; dpor runs to the end); a
                              count cut by it shows as ≥N
      --header                print the table header
      --model lkmm            measure the LKMM engine instead (executions, candidates, time, the SC
                              answer's time beside it, peak memory); another table
      --allocations           per file, the heap allocations of one dpor search (glibc's malloc &
                              co counted on the search's thread), its executions and steps
      --help                  Show this help

    """

    let args: Arguments
    init(_ words: [String]) throws {
        args = try Arguments(words, flags: ["--header", "--help", "-h", "--allocations"], valued: ["-D", "-I", "--label", "--timeout", "--model"])
    }

    static let header = """
    | group | files | dfs executions | dpor, no lock reduction | dpor executions | traces | redundancy | sleep-blocked | blocked % | blocked, no reduction, wakeup trees | states (bfs) | dpor time | steps/s | peak RSS | --jobs 2 speed-up |
    | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |

    """

    static let lkmmHeader = """
    | group | files | lkmm executions | candidates | lkmm time | sc time (auto) | peak RSS |
    | --- | ---: | ---: | ---: | ---: | ---: | ---: |

    """

    /// The row's label and the files of the group, loaded.
    func group() throws -> (label: String, contexts: [ExplorationContext]) {
        guard !args.positional.isEmpty else { throw UsageError("expected race files") }
        let defines = try CLI.defines(args)
        let contexts = try args.positional.map { path in
            ExplorationContext(machine: Machine(program: try Frontend.load(path: path, defines: defines, includeDirs: args.all("-I"))))
        }
        return (args.last("--label") ?? args.positional[0], contexts)
    }

    /// `--model lkmm`: the LKMM engine over the files in this one process (its executions,
    /// candidate executions checked, time, peak memory), with the SC answer's time beside it.
    func lkmm(_ output: Output) throws -> Int32 {
        let (label, contexts) = try group()
        var o = ExplorationOptions()
        o.timeout = try args.double("--timeout") ?? 600
        var executions = 0, candidates = 0, complete = true
        var t0 = monotonicSeconds()
        for ctx in contexts {
            let r = LKMMSearch().explore(ctx, options: o)
            executions += r.executions; candidates += r.lkmm?.candidates ?? 0; complete = complete && r.complete
        }
        let lkmmTime = monotonicSeconds() - t0
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        t0 = monotonicSeconds()
        for ctx in contexts { _ = AutomaticStrategy().explore(ctx, options: o) }
        let scTime = monotonicSeconds() - t0
        let row = [label, "\(contexts.count)", complete ? "\(executions)" : "≥\(executions)", "\(candidates)",
                   String(format: "%.3f s", lkmmTime), String(format: "%.3f s", scTime), String(format: "%.0f MB", Double(usage.ru_maxrss) / 1024)]
        output.print("| " + row.joined(separator: " | ") + " |\n")
        return 0
    }

    /// `--allocations`: one line per file, `FILE: A allocations, E executions, S steps`, for one
    /// dpor search (one worker, after one unmeasured) with the allocator's counter on
    /// (`AllocationCounter`; -1 where it is not built in). `AllocationTests` compares two
    /// searches that differ only in steps.
    func allocations(_ output: Output) throws -> Int32 {
        let (_, contexts) = try group()
        for (path, ctx) in zip(args.positional, contexts) {
            // Once unmeasured first: what a process allocates once (runtime metadata, lazy globals).
            _ = DynamicPartialOrderReduction().explore(ctx, options: ExplorationOptions())
            allocation_counter_begin()
            let r = DynamicPartialOrderReduction().explore(ctx, options: ExplorationOptions())
            let n = allocation_counter_end()
            output.print("\(path): \(n) allocations, \(r.executions) executions, \(r.steps) steps\n")
        }
        return 0
    }

    /// Distinct canonical schedules seen (by the fingerprint hasher states use). Unchecked: dpor's
    /// subtrees report from worker threads; `lock` guards `hashes`.
    final class TraceSet: @unchecked Sendable {
        let lock = NSLock()
        var hashes = Set<UInt64>()
        func insert(_ s: [Int]) {
            var h = FingerprintHasher()
            for t in s { h.mix(UInt64(t)) }
            lock.lock(); hashes.insert(h.value); lock.unlock()
        }
    }

    func run(_ output: Output) throws -> Int32 {
        if args.has("--help") || args.has("-h") { output.print(BenchCommand.help); return 0 }
        let model = try CLI.model(args)
        if args.has("--header") { output.print(model == .lkmm ? BenchCommand.lkmmHeader : BenchCommand.header); return 0 }
        if model == .lkmm { return try lkmm(output) }
        if args.has("--allocations") { return try allocations(output) }
        let (label, contexts) = try group()
        let limit = try args.double("--timeout") ?? 10
        // dpor runs to the end (it is what is measured); dfs and bfs get `limit` per file.
        var o = ExplorationOptions()
        o.timeout = 600
        var limited = ExplorationOptions()
        limited.timeout = limit
        // dpor, one worker: the time, steps and peak memory reported.
        var dporExecutions = 0, sleepBlocked = 0, steps = 0, dporComplete = true
        var t0 = monotonicSeconds()
        for ctx in contexts {
            let r = DynamicPartialOrderReduction().explore(ctx, options: o)
            dporExecutions += r.executions; sleepBlocked += r.sleepBlocked; steps += r.steps; dporComplete = dporComplete && r.complete
        }
        let dporTime = monotonicSeconds() - t0
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peakMB = Double(usage.ru_maxrss) / 1024
        // dpor, two workers.
        var o2 = o; o2.jobs = 2
        t0 = monotonicSeconds()
        for ctx in contexts { _ = DynamicPartialOrderReduction().explore(ctx, options: o2) }
        let jobs2Time = monotonicSeconds() - t0
        // Distinct traces among the dpor executions.
        var traces = 0
        for ctx in contexts {
            let set = TraceSet()
            var ot = o; ot.observeTrace = { set.insert($0) }
            _ = DynamicPartialOrderReduction().explore(ctx, options: ot)
            traces += set.hashes.count
        }
        // dpor without lock-aware reduction (within the per-file limit), for comparison, under
        // wakeup trees (the same executions as Source-DPOR, none sleep-blocked).
        var strictExecutions = 0, strictComplete = true, strictBlocked = 0
        for ctx in contexts {
            var os = limited; os.lockReduction = false; os.wakeupTrees = true
            let r = DynamicPartialOrderReduction().explore(ctx, options: os)
            strictExecutions += r.executions; strictComplete = strictComplete && r.complete; strictBlocked += r.sleepBlocked
        }
        // Plain dfs and stateful bfs, within the same per-file limit.
        var dfsExecutions = 0, dfsComplete = true, states = 0, bfsComplete = true
        for ctx in contexts {
            let d = DepthFirstSearch().explore(ctx, options: limited)
            dfsExecutions += d.executions; dfsComplete = dfsComplete && d.complete
            let b = BreadthFirstSearch().explore(ctx, options: limited)
            states += b.distinctStates ?? 0; bfsComplete = bfsComplete && b.complete
        }
        func count(_ n: Int, _ complete: Bool) -> String { complete ? "\(n)" : "≥\(n)" }
        let redundancy = traces > 0 ? String(format: "%.2f", Double(dporExecutions) / Double(traces)) : "-"
        let row = [
            label, "\(contexts.count)", count(dfsExecutions, dfsComplete), count(strictExecutions, strictComplete),
            count(dporExecutions, dporComplete), "\(traces)", redundancy, "\(sleepBlocked)",
            dporExecutions > 0 ? String(format: "%.1f %%", 100 * Double(sleepBlocked) / Double(dporExecutions)) : "-",
            count(strictBlocked, strictComplete),
            count(states, bfsComplete), String(format: "%.3f s", dporTime),
            String(format: "%.0f", Double(steps) / max(dporTime, 1e-6)), String(format: "%.0f MB", peakMB),
            String(format: "%.2f×", dporTime / max(jobs2Time, 1e-6)),
        ]
        output.print("| " + row.joined(separator: " | ") + " |\n")
        return 0
    }
}

/// The entry point of `faultline-bench` (kept out of the shipped `faultline` binary).
package enum Bench {
    package static func run(_ args: [String], output: Output) -> Int32 {
        CLI.guarded("faultline-bench", output) { try BenchCommand(args).run(output) }
    }
}
