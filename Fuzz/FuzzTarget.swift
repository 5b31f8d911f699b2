// The libFuzzer target of `make fuzz` (scripts/fuzz.sh builds it with `swiftc -sanitize=fuzzer`;
// SwiftPM does not see this directory). Each input is a race file: it goes through the whole
// front end and a bounded exploration — `faultline explore` as a user runs it, both models for a
// plain herd7 test, the report rendered — with includes from one fixed folder only. A crash, a
// trap, a hang past libFuzzer's -timeout, or exit code 3 (an internal error) is a finding; a
// verdict (0, 1, 4) or a diagnostic (2) is not.
import Foundation
import FaultlineCLI

enum FuzzTarget {
    /// A private directory holding `input.litmus` and `include/` (a link to the fixed include
    /// folder, `FAULTLINE_FUZZ_INCLUDE`, default `races/include`): the only place includes come from.
    static let directory: String = {
        let dir = NSTemporaryDirectory() + "faultline-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let include = ProcessInfo.processInfo.environment["FAULTLINE_FUZZ_INCLUDE"] ?? "races/include"
        try? FileManager.default.createSymbolicLink(atPath: dir + "/include", withDestinationPath: (include as NSString).standardizingPath.hasPrefix("/") ? include : FileManager.default.currentDirectoryPath + "/" + include)
        return dir
    }()

    /// The search each input gets, picked by its size so that a reproducer always runs the same way.
    static let strategies = ["dpor", "dfs", "random", "auto", "bfs", "pct"]

    static func run(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        let path = directory + "/input.litmus"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let strategy = strategies[bytes.count % strategies.count]
        var args = ["explore", path, "-I", directory + "/include", "--max-executions", "40", "--timeout", "5",
                    "--max-steps", "300", "--max-memory", "1G", "--runs", "20", "--width", "80"]
        if strategy != "auto" { args += ["--strategy", strategy] }
        let output = Output(streaming: false)
        let rc = CLI.run(args, output: output)
        if rc == 3 || !(0...4).contains(rc) {
            FileHandle.standardError.write(Data("faultline explore exited \(rc)\n\(output.err)".utf8))
            abort()
        }
        return 0
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.run(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size))
}
