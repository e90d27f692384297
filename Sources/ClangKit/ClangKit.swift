import CClang
/// Version string of the libclang in use.
public func libclangVersion() -> String { let s = clang_getClangVersion(); defer { clang_disposeString(s) }; return String(cString: clang_getCString(s)) }
