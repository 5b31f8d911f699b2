import Foundation
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
import FaultlineExplore
import FaultlineReport

/// Exit codes of every command. A search that stopped early (a limit) and found nothing is not
/// clean: 4. Interrupted: 128 + the signal (130 SIGINT, 143 SIGTERM).
package enum ExitCode: Int32 {
    case ok = 0, violation = 1, badInput = 2, internalError = 3, incomplete = 4

    /// The code of a command over several files: bad input, then a violation, then incomplete.
    static func worst(_ a: Int32, _ b: Int32) -> Int32 {
        func rank(_ c: Int32) -> Int { [0: 0, 4: 1, 1: 2, 2: 3, 3: 4][c] ?? 5 }
        return rank(a) >= rank(b) ? a : b
    }
}

/// Where a command writes (captured in tests).
package final class Output {
    package var out = ""
    package var err = ""
    package let streaming: Bool
    package init(streaming: Bool) { self.streaming = streaming }
    package func print(_ s: String) {
        if streaming { Output.writeAll(STDOUT_FILENO, s) } else { out += s }
    }
    package func error(_ s: String) {
        if streaming { Output.writeAll(STDERR_FILENO, s) } else { err += s }
    }

    /// Writes all of `s`; when standard output cannot be written (a closed pipe, a full disk, a
    /// bad descriptor) the process ends quietly: 141 for a closed pipe (as SIGPIPE would), else 1.
    /// An error writing standard error is ignored (there is nowhere to say it).
    static func writeAll(_ fd: Int32, _ s: String) {
        let bytes = Array(s.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            if fd != STDOUT_FILENO { return }
            exit(errno == EPIPE ? 141 : 1)
        }
    }
}

/// The command-line interface: argument parsing and exit codes; the work is in the libraries.
package enum CLI {
    package static let version = "faultline 0.1.0"

    /// `environment` supplies the defaults a Kubernetes Indexed Job sets (`JOB_COMPLETION_INDEX`,
    /// `JOB_COMPLETIONS`); tests pass their own.
    package static func run(_ args: [String], output: Output, environment: [String: String] = ProcessInfo.processInfo.environment) -> Int32 {
        guard let cmd = args.first else {
            output.error(mainHelp)
            return ExitCode.badInput.rawValue
        }
        let rest = Array(args.dropFirst())
        if output.streaming { Interrupts.shared.install() }
        return guarded("faultline \(cmd)", output) {
            switch cmd {
            case "--version", "version": output.print(version + "\n"); return 0
            case "--help", "-h", "help":
                if let c = rest.first, let h = help(for: c) { output.print(h) } else { output.print(mainHelp) }
                return 0
            case _ where help(for: cmd) != nil && (rest.contains("--help") || rest.contains("-h")):
                output.print(help(for: cmd)!); return 0
            case "explore": return try ExploreCommand(rest, environment: environment).run(output)
            case "replay": return try ReplayCommand(rest).run(output)
            case "list": return try ListCommand(rest).run(output)
            case "merge": return try MergeCommand(rest).run(output)
            case "check": return try CheckCommand(rest).run(output)
            default:
                output.error("faultline: unknown command '\(cmd)'\n\n" + mainHelp)
                return ExitCode.badInput.rawValue
            }
        }
    }

    /// Runs one command, turning its errors into exit codes: usage errors and diagnostics are bad
    /// input (2), anything else internal (3). Shared with `faultline-bench`.
    package static func guarded(_ command: String, _ output: Output, _ body: () throws -> Int32) -> Int32 {
        do {
            return try body()
        } catch let e as UsageError {
            output.error("\(command): \(e.message)\n(see '\(command) --help')\n")
            return ExitCode.badInput.rawValue
        } catch let d as Diagnostic {
            output.error(d.rendered)
            return ExitCode.badInput.rawValue
        } catch {
            output.error("faultline: internal error: \(error)\n")
            return ExitCode.internalError.rawValue
        }
    }

    static func help(for c: String) -> String? {
        ["explore": exploreHelp, "replay": replayHelp, "list": listHelp, "check": checkHelp, "merge": mergeHelp][c]
    }

    static let mainHelp = """
    OVERVIEW: Faultline explores the interleavings of kernel page-fault races.

    USAGE: faultline <command> [options]

    COMMANDS:
      explore    Explore every interleaving of race files (or sample them)
      replay     Re-run one interleaving from a replay token or seed and print its trace
      list       List race files, their configurations and expectations
      check      Run every race in every declared configuration and compare with expectations (CI gate)
      merge      Combine the JSON reports of the shards of one search into the unsharded report

    OPTIONS:
      --version  Print the version
      --help     Show help; 'faultline <command> --help' for a command

    EXIT CODES: 0 nothing violated and the search complete / as expected, 1 violation found or
                expectation missed, 2 bad usage or input, 3 internal error, 4 nothing violated
                but the search did not finish (a limit, or sampling: random, pct), 130/143
                interrupted by SIGINT/SIGTERM (the partial report is printed first).

    """

    /// The trace options' help (explore and replay).
    static let traceHelp = """
      --width N               lay text traces out in N columns (default: the terminal's width, 100 when not a terminal)
      --full                  show every step of a trace (default: runs of one CPU's steps that touch
                              nothing another CPU touches fold into one row)
      --stacks                show each step's call chain
      --html FILE             also write the traces as one self-contained HTML page (lanes per CPU,
                              source and page-table panes; arrow keys step)
    """

    static let exploreHelp = """
    OVERVIEW: Explore the interleavings of one or more race files.

    USAGE: faultline explore <file>... [-D NAME[=VALUE]]... [--model lkmm|sc] [--strategy auto|dpor|axiomatic|dfs|bfs|random|pct] [options]

    ARGUMENTS:
      <file>                  Race files (*.litmus): herd7 C litmus tests plus Faultline's extensions

    OPTIONS:
      -D NAME[=VALUE]         Define a preprocessor macro (selects a configuration)
      -I DIR                  Also search DIR for #include files
      --model lkmm|sc         the memory model: lkmm (the Linux-kernel memory model, as herd7 runs
                              linux-kernel.cfg) or sc (sequential consistency: interleavings).
                              Default: both for a plain herd7 litmus test (the LKMM verdict, the SC
                              verdict beside it), sc for a race file (#include, helpers, final...)
      --unroll N              lkmm: how often a loop is unrolled (default 2, as herd7)
      --dot FILE              lkmm: write the execution shown (witness or forbidden) as Graphviz DOT
                              (one digraph per file)
      --strategy S            sc: auto (default: axiomatic when the program is only loop-free
                              reads, writes, barriers, RCU and SRCU, else dpor), dpor (exhaustive,
                              one execution per Mazurkiewicz trace), axiomatic (herd-style candidate
                              executions checked for SC), dfs (every interleaving), bfs (stateful,
                              shortest counterexamples), random (uniform sampling) or pct
                              (probabilistic concurrency testing: priority schedules with at most
                              D-1 random preemptions)
      --preemptions K         dfs: skip schedules with more than K preemptions
      --depth D               pct: the bug depth to target, D-1 change points per run (default 3, min 1)
      --seed S                random, pct: the session seed (decimal or 0x hex; default 0)
      --runs N                random, pct: number of sampled executions (default 1000)
      --max-steps N           steps one thread may take before a possible livelock is reported (default 2000)
      --jobs N                dpor, random: search with N worker threads (same report for any N)
      --shard I/N             dpor, random: explore only part I (0-based) of N of the search; combine
                              the JSON reports with 'faultline merge'. Defaults from the environment
                              of a Kubernetes Indexed Job: JOB_COMPLETION_INDEX and JOB_COMPLETIONS
      --max-executions N      stop after N executions (bfs: N states expanded); partial report
      --timeout SECONDS       end within this long, front end to report (the search stops early
                              enough for shrinking and rendering; partial report)
      --max-memory SIZE       stop the search when resident memory exceeds SIZE (e.g. 512M, 4G;
                              default: half the physical memory); partial report
      --format text|json      output format (json: one object per file, one per line)
      --no-trace              do not print traces in text output
    \(traceHelp)
      --no-leak-check         do not report leaked objects at the end of an execution
      --no-shrink             show each violation's schedule as found, without reducing its
                              context switches first
      --no-lock-reduction     dpor: order every two critical sections of one spinlock, mutex,
                              rwsem (writers) or page lock (by default only sections whose
                              accesses conflict are reordered)
      --wakeup-trees          dpor without lock-aware reduction (no such lock, an invariant or
                              --no-lock-reduction): Optimal-DPOR's wakeup trees, no execution
                              abandoned in a sleep-blocked state, but more work per execution;
                              a program with a loop is then not split by --jobs
      --help                  Show this help

    A search that stops early says so: 'INCOMPLETE (reason)', verdicts 'never so far (incomplete:
    timeout after N executions)', and exit code 4 when it found no violation. SIGINT/SIGTERM stop
    the search, print the partial report and exit 130/143.

    """

    static let mergeHelp = """
    OVERVIEW: Combine the JSON reports of the shards of one search into the report an unsharded
    run gives (byte for byte). Each input holds one JSON object per line, as written by
    'faultline explore --shard I/N --format json'; every shard 0..N-1 of a race and configuration
    must be present exactly once. The race file is read again to render traces.

    USAGE: faultline merge <report.json>... [--format text|json] [--width N] [--full] [--stacks]

    ARGUMENTS:
      <report.json>           Shard reports (one JSON object per line)

    OPTIONS:
      --format text|json      output format (default text)
      --help                  Show this help

    """


    static let replayHelp = """
    OVERVIEW: Re-run one interleaving and print its full trace.

    USAGE: faultline replay <file> (--trace TOKEN | --seed S) [-D NAME[=VALUE]]... [--format text|json]
           faultline replay <file> --model lkmm --trace lk1:... [--dot FILE] [--unroll N]

    ARGUMENTS:
      <file>                  The race file the token or seed was printed for

    OPTIONS:
      --trace TOKEN           A replay token (fl1:HASH:SCHEDULE) printed by explore or check, or an
                              LKMM execution (lk1:HASH:...) printed by explore --model lkmm
      --model lkmm|sc         lkmm: show the LKMM execution the lk1 token names (events per CPU,
                              rf, co, fr; the axiom and cycle when the model forbids it)
      --dot FILE              lkmm: also write the execution as Graphviz DOT
      --unroll N              lkmm: the same loop bound as the run that printed the token
      --seed S                The seed of one random run, as printed by explore --strategy random
                              (pct runs print a --trace token instead)
      -D NAME[=VALUE]         The same defines as the run that printed the token
      -I DIR                  Also search DIR for #include files
      --max-steps N           as for explore
      --format text|json      output format
    \(traceHelp)
      --help                  Show this help

    Exits 1 when the replayed execution violates something (lkmm: an axiom), 0 when it does not.

    """

    static let listHelp = """
    OVERVIEW: List race files with their configurations and expectations.

    USAGE: faultline list [<path>...] [--format text|json] [--model lkmm|sc]

    ARGUMENTS:
      <path>                  Files or directories (searched for *.litmus, include/ skipped); default races/

    OPTIONS:
      --model lkmm|sc         only the expectations under this model (and those naming none)
      --help                  Show this help

    """

    static let checkHelp = """
    OVERVIEW: Run each race in every configuration its header declares and compare with its expectations.

    USAGE: faultline check [<path>...] [-I DIR]... [--junit FILE] [--jobs N] [--model lkmm|sc]

    ARGUMENTS:
      <path>                  Files or directories (default races/)

    OPTIONS:
      -I DIR                  Also search DIR for #include files (before the race's include/ and the catalogue's)
      --junit FILE            Also write JUnit XML (one testcase per race and configuration)
      --sarif FILE            Also write SARIF 2.1.0 for code scanning (one result per mismatch or violation,
                              the interleaving as code flows)
      --html FILE             Also write every violation's trace as one HTML page (a list to choose from)
      --format text|json      the table (default) or one JSON object (docs/json.md)
      --jobs N                Run configurations in parallel (default: number of CPUs); output is the same
      --max-steps N           as for explore
      --timeout SECONDS       per configuration (default 300)
      --model lkmm|sc         run only the expectations under this model; those naming none run
                              under it (default: those naming none run under sc)
      --unroll N              lkmm: loop bound (default 2, as herd7)
      --help                  Show this help

    Expectation lines (in the header comment):
      Expect: - => sometimes use-after-free      default configuration
      Expect: -DFIX => never clean               with -DFIX
      Expect: -DX => lkmm sometimes              under the kernel's memory model
      Expect: - => sc never                      under sequential consistency
    herd7's 'Result: Never|Sometimes|Always|DEADLOCK|Maybe [DATARACE]' is the default configuration's
    LKMM expectation, read as the kernel's judgelitmus.sh reads it: DEADLOCK means no execution
    reaches the end; Maybe accepts any verdict; DATARACE must match herd7's data-race flag (and its
    absence the flag's absence); with a data race flagged, a verdict mismatch is forgiven.
    Every configuration runs under sc what 'faultline explore' runs by default (--strategy auto:
    axiomatic when the program is only loop-free reads, writes, barriers, RCU and SRCU, else dpor).
    Clean configurations are explored exhaustively; a configuration that expects violations
    stops once every expected kind has been found (and a 'sometimes' verdict is established).

    """

    /// Finds *.litmus files under the paths (sorted; `include` directories skipped).
    static func raceFiles(_ paths: [String]) throws -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for p in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDir) else { throw UsageError("no such file or directory: \(p)") }
            if !isDir.boolValue { out.append(p); continue }
            guard let e = fm.enumerator(atPath: p) else { continue }
            var found: [String] = []
            while let rel = e.nextObject() as? String {
                if rel.split(separator: "/").contains("include") { continue }
                if rel.hasSuffix(".litmus") { found.append((p.hasSuffix("/") ? p : p + "/") + rel) }
            }
            out.append(contentsOf: found.sorted())
        }
        return out
    }

    package static func defines(_ a: Arguments) throws -> [Define] {
        try a.all("-D").map { s in
            guard let d = Define(parsing: s) else { throw UsageError("bad -D '\(s)': expected NAME or NAME=VALUE") }
            return d
        }
    }
}

extension CLI {
    /// The options that lay out a text trace.
    static let traceFlags: Set<String> = ["--full", "--stacks"]

    /// `--width N` (else the terminal's width on a terminal, else 100), `--full`, `--stacks`.
    static func traceLayout(_ args: Arguments) throws -> TraceLayout {
        TraceLayout(width: try args.int("--width", default: terminalColumns() ?? 100, min: 40),
                    full: args.has("--full"), stacks: args.has("--stacks"))
    }

    /// The width of the terminal stdout (or stderr) is, nil when neither is one.
    static func terminalColumns() -> Int? {
        var w = winsize()
        for fd in [STDOUT_FILENO, STDERR_FILENO] where isatty(fd) == 1 {
            if ioctl(fd, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0 { return Int(w.ws_col) }
        }
        return nil
    }

    /// Writes the trace viewer page (`--html FILE`).
    static func writeHTML(_ file: String, title: String, _ parts: [HTMLTrace.Part], _ output: Output) {
        do { try HTMLTrace.page(title: title, parts).write(toFile: file, atomically: true, encoding: .utf8) } catch {
            output.error("faultline: cannot write \(file): \(error)\n")
        }
    }

    /// `--shard I/N`, else `JOB_COMPLETION_INDEX` with `JOB_COMPLETIONS` (a Kubernetes Indexed Job).
    static func shard(_ args: Arguments, environment: [String: String]) throws -> Shard? {
        func parse(_ i: String, _ n: String, _ what: String) throws -> Shard {
            guard let index = Int(i), let count = Int(n), count >= 1, index >= 0, index < count else {
                throw UsageError("\(what) must be I/N with 0 ≤ I < N, got '\(i)/\(n)'")
            }
            return Shard(index: index, count: count)
        }
        if let s = args.last("--shard") {
            let parts = s.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw UsageError("--shard must be I/N, got '\(s)'") }
            return try parse(String(parts[0]), String(parts[1]), "--shard")
        }
        if let i = environment["JOB_COMPLETION_INDEX"], let n = environment["JOB_COMPLETIONS"] {
            return try parse(i, n, "JOB_COMPLETION_INDEX/JOB_COMPLETIONS")
        }
        return nil
    }
}
