import Foundation

/// The whole front end in one call: preprocess with the given defines, parse, lower.
public enum Frontend {
    /// Where `#include "x"` looks after the including file's own directory: `include/` next to
    /// the race file, `races/include` under the current directory, then `extra` (`-I`).
    public static func includeDirectories(for path: String, extra: [String] = []) -> [String] {
        let dir = (path as NSString).deletingLastPathComponent
        var dirs = [(dir.isEmpty ? "." : dir) + "/include"]
        dirs.append(FileManager.default.currentDirectoryPath + "/races/include")
        dirs.append(contentsOf: extra)
        var seen = Set<String>()
        return dirs.filter { seen.insert(($0 as NSString).standardizingPath).inserted }
    }

    /// Loads, preprocesses, parses and compiles a race file.
    public static func load(path: String, defines: [Define], includeDirs: [String] = [], loader: SourceLoader = FileSystemLoader()) throws -> Program {
        var pp = try Preprocessor(includeDirs: includeDirectories(for: path, extra: includeDirs), loader: loader, defines: defines)
        let source = try pp.run(path: path)
        var file = try Parser.parse(source)
        // The name as the header reader reads it (check and list read the same header).
        if let main = source.files.first { file.name = LitmusHeader.read(main).name }
        return try Compiler.compile(file, programHash: source.programHash)
    }

    /// The same from text in memory (tests).
    public static func load(text: String, path: String = "test.litmus", defines: [Define] = [], files: [String: String] = [:]) throws -> Program {
        struct MemoryLoader: SourceLoader {
            var files: [String: String]
            func load(path: String) -> String? { files[path] ?? files[(path as NSString).lastPathComponent] }
        }
        var all = files
        all[path] = text
        return try load(path: path, defines: defines, includeDirs: [], loader: MemoryLoader(files: all))
    }
}
