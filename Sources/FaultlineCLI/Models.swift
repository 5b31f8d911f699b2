import Foundation
import FaultlineLanguage
import FaultlineMachine
import FaultlineCheck
import FaultlineExplore
import FaultlineReport

/// One memory model's answer for one program and configuration: the search result and the
/// herd7 flags it raised. SC is the interleaving strategies' answer; LKMM is the axiomatic
/// engine's, and a program outside its scope is a diagnostic, never an SC answer under its name.
struct ModelAnswer {
    var model: MemoryModel
    var result: ExplorationResult
    var flags: [String] = []

    /// How each model searches: SC with `strategy`, LKMM with loops unrolled `unroll` times.
    struct Settings {
        var strategy: StrategyName
        var unroll = 2
    }

    /// Runs `ctx`'s program under `model`. Throws a `Diagnostic` (`unsupported under lkmm:
    /// <construct>`, at the construct) when the LKMM engine cannot take the program.
    static func explore(_ model: MemoryModel, _ ctx: ExplorationContext, options: ExplorationOptions, settings: Settings) throws -> ModelAnswer {
        switch model {
        case .sc:
            return ModelAnswer(model: .sc, result: settings.strategy.make().explore(ctx, options: options))
        case .lkmm:
            let prepared: LKMMSearch.Prepared
            do { prepared = try LKMMSearch.prepare(ctx, unroll: settings.unroll) } catch let e as LKMMUnsupported {
                throw Diagnostic(e.description, at: location(of: e, in: ctx.machine.program))
            }
            let r = LKMMSearch(unroll: settings.unroll).explore(ctx, options: options, prepared: prepared)
            return ModelAnswer(model: .lkmm, result: r, flags: r.lkmm?.flags ?? [])
        }
    }

    /// Where an unsupported construct is (the test's first line when the engine cannot say).
    static func location(of e: LKMMUnsupported, in program: Program) -> SourceLocation {
        if e.location >= 0 && Int(e.location) < program.locations.count { return program.locations[Int(e.location)] }
        return e.source ?? program.file.location
    }

    func observation(hasClaim: Bool) -> Observation { result.observation(hasClaim: hasClaim, flags: flags) }

    /// The report of this answer (violations shrunk first when `shrink`, within `budget`).
    func report(path: String, defines: [Define], includeDirs: [String] = [], context: ExplorationContext, shrink: Bool, traces: Bool = true,
                budget: SearchBudget? = nil) -> RunReport {
        var r = result
        if shrink { r.shrinkViolations(context, budget: budget) }
        var report = RunReport(path: path, defines: defines, includeDirs: includeDirs, context: context, result: r, traces: traces,
                               deadline: budget?.deadline)
        report.model = model
        report.flags = flags
        return report
    }
}

extension CLI {
    /// `--model lkmm|sc` (nil when not given).
    package static func model(_ args: Arguments) throws -> MemoryModel? {
        guard let m = args.last("--model") else { return nil }
        guard let model = MemoryModel(rawValue: m) else { throw UsageError("--model must be lkmm or sc, got '\(m)'") }
        return model
    }

    /// The models a file is answered under: the one `--model` names; else both for a plain herd7
    /// litmus test (LKMM first) and SC for a race file (one that uses Faultline's extensions).
    static func models(_ chosen: MemoryModel?, _ program: Program) -> [MemoryModel] {
        if let m = chosen { return [m] }
        return program.file.extensions.isEmpty ? [.lkmm, .sc] : [.sc]
    }

    /// The SC strategy a command runs: `--strategy`, by default `auto` (`AutomaticStrategy`
    /// decides per program: axiomatic when every thread's paths stay in its scope, else dpor).
    /// `explore` and `check` both ask here; `check` takes no `--strategy`, so it always runs `auto`.
    static func strategy(_ args: Arguments) throws -> StrategyName {
        let name = args.last("--strategy") ?? StrategyName.auto.rawValue
        guard let strategy = StrategyName(rawValue: name) else {
            throw UsageError("unknown strategy '\(name)' (known: \(StrategyName.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return strategy
    }

    /// `--unroll N`: the LKMM engine's loop bound (herd7's `-unroll`, default 2).
    static func unroll(_ args: Arguments) throws -> Int { try args.int("--unroll", default: 2, min: 0) }
}

extension CLI {
    /// Writes an output file (`--dot`, `--junit`); a failure is bad usage.
    static func write(_ text: String, to path: String) throws {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw UsageError("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
