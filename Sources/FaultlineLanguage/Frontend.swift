import Foundation

/// The whole front end in one call: preprocess with the given defines, parse, lower.
package enum Frontend {
    /// Where `#include "x"` looks besides the race file's own directory (which the race file's
    /// includes try first, and a header's includes try last, so that one header can be
    /// overridden without copying the headers that include it): the `-I` directories (`extra`),
    /// `include/` next to the race file, then the catalogue's kernel model `races/include`,
    /// looked for in the race file's directory and its parents, then next to the installed
    /// binary and its parents. Never relative to the current directory.
    package static func includeDirectories(for path: String, extra: [String] = []) -> [String] {
        let dir = (path as NSString).deletingLastPathComponent
        var dirs = extra
        dirs.append((dir.isEmpty ? "." : dir) + "/include")
        if let catalogue = catalogueIncludeDirectory(near: dir.isEmpty ? "." : dir) { dirs.append(catalogue) }
        if let exe = executableDirectory(), let catalogue = catalogueIncludeDirectory(near: exe) { dirs.append(catalogue) }
        var seen = Set<String>()
        return dirs.filter { seen.insert(absolute($0)).inserted }
    }

    /// `races/include` in `dir` or the nearest parent that has one (as `dir`-relative a path as
    /// possible, so diagnostics and traces name headers the way the user named the race file).
    static func catalogueIncludeDirectory(near dir: String) -> String? {
        var isDir: ObjCBool = false
        var d = dir
        // Relative ancestors first (`a/b`, `a`, `.`), then absolute ones above them.
        while true {
            let c = d + "/races/include"
            if FileManager.default.fileExists(atPath: c, isDirectory: &isDir), isDir.boolValue { return c == "./races/include" ? "races/include" : c }
            if d == "." || d == "/" || d.isEmpty { break }
            let up = (d as NSString).deletingLastPathComponent
            d = up.isEmpty ? (d.hasPrefix("/") ? "/" : ".") : up
        }
        var a = absolute(d == "." ? dir : d)
        while a != "/" && !a.isEmpty {
            a = (a as NSString).deletingLastPathComponent
            let c = (a == "/" ? "" : a) + "/races/include"
            if FileManager.default.fileExists(atPath: c, isDirectory: &isDir), isDir.boolValue { return c }
        }
        return nil
    }

    static func absolute(_ p: String) -> String {
        let a = p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p
        return (a as NSString).standardizingPath
    }

    /// The directory of the running binary (`/proc/self/exe`), if it can be found.
    static func executableDirectory() -> String? {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? Bundle.main.executablePath
        return exe.map { ($0 as NSString).deletingLastPathComponent }
    }

    /// Loads, preprocesses, parses and compiles a race file. `deadline` (`monotonicSeconds`)
    /// bounds preprocessing, the one phase whose work can grow faster than its input.
    package static func load(path: String, defines: [Define], includeDirs: [String] = [], loader: SourceLoader = FileSystemLoader(),
                            deadline: Double? = nil) throws -> Program {
        try onLargeStack {
            var pp = try Preprocessor(includeDirs: includeDirectories(for: path, extra: includeDirs), loader: loader, defines: defines)
            pp.deadline = deadline
            let source = try pp.run(path: path)
            var file = try Parser.parse(source)
            // The name as the header reader reads it (check and list read the same header).
            if let main = source.files.first { file.name = LitmusHeader.read(main).name }
            return try Compiler.compile(file, programHash: source.programHash)
        }
    }

    /// Stack for the front end's recursive descent (`Parser.maxNesting` levels through parser,
    /// constant folder and compiler, in a debug build too) wherever it is called from: worker
    /// threads (`check --jobs`) have small stacks.
    static let stackSize = 256 << 20

    /// Runs `body` on a thread with `stackSize` of stack and waits for it.
    static func onLargeStack<T>(_ body: @escaping () throws -> T) throws -> T {
        let job = StackJob(body)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread { job.run(); done.signal() }
        thread.stackSize = stackSize
        thread.start()
        done.wait()
        return try job.result!.get()
    }

    /// The same from text in memory (tests).
    package static func load(text: String, path: String = "test.litmus", defines: [Define] = [], files: [String: String] = [:]) throws -> Program {
        struct MemoryLoader: SourceLoader {
            var files: [String: String]
            func load(path: String) -> String? { files[path] ?? files[(path as NSString).lastPathComponent] }
        }
        var all = files
        all[path] = text
        return try load(path: path, defines: defines, includeDirs: [], loader: MemoryLoader(files: all))
    }
}

/// Work handed to the front end's thread and its result. Unchecked: the caller blocks until the
/// thread is done with it, so it is never used by two threads at once.
private final class StackJob<T>: @unchecked Sendable {
    let body: () throws -> T
    var result: Result<T, Error>?
    init(_ body: @escaping () throws -> T) { self.body = body }
    func run() { result = Result { try body() } }
}

/// A monotonic clock for limits and the summary line (never part of deterministic output).
package func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
