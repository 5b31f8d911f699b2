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

    /// Runs `ctx`'s program under `model`; `strategy` is the SC strategy. Throws a `Diagnostic`
    /// (`unsupported under lkmm: <construct>`) when the LKMM engine cannot take the program.
    static func explore(_ model: MemoryModel, _ ctx: ExplorationContext, options: ExplorationOptions, strategy: StrategyName) throws -> ModelAnswer {
        switch model {
        case .sc:
            return ModelAnswer(model: .sc, result: strategy.make().explore(ctx, options: options))
        case .lkmm:
            let prepared: LKMMSearch.Prepared
            do { prepared = try LKMMSearch.prepare(ctx) } catch let e as LKMMUnsupported {
                let program = ctx.machine.program
                throw Diagnostic(e.description, at: e.location >= 0 ? program.locations[Int(e.location)] : program.file.location)
            }
            let result = LKMMSearch().explore(ctx, options: options, prepared: prepared)
            return ModelAnswer(model: .lkmm, result: result, flags: result.lkmm?.flags ?? [])
        }
    }

    func observation(hasClaim: Bool) -> Observation { result.observation(hasClaim: hasClaim, flags: flags) }

    /// The report of this answer (violations shrunk first when `shrink`).
    func report(path: String, defines: [Define], includeDirs: [String] = [], context: ExplorationContext, shrink: Bool) -> RunReport {
        var r = result
        if shrink { r.shrinkViolations(context) }
        var report = RunReport(path: path, defines: defines, includeDirs: includeDirs, context: context, result: r)
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

    /// The models a file is answered under: the one `--model` names, else SC. (Once the LKMM
    /// engine is in: both for a plain herd7 litmus test, `program.file.extensions` empty.)
    static func models(_ chosen: MemoryModel?, _ program: Program) -> [MemoryModel] {
        if let m = chosen { return [m] }
        return [.sc]
    }
}
