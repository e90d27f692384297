import CClang

/// Turns an owned CXString into a Swift String and disposes it. Every
/// CXString libclang hands out goes through here, so none leaks.
@inline(__always)
func consume(_ string: CXString) -> String {
    defer { clang_disposeString(string) }
    guard let c = clang_getCString(string) else { return "" }
    return String(cString: c)
}

/// The version string of the libclang this process is linked against.
public func libclangVersion() -> String {
    consume(clang_getClangVersion())
}
