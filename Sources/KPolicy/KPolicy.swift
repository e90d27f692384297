import ClangKit
/// kpolicy library.
public enum KPolicyInfo { public static var libclang: String { libclangVersion() } }
