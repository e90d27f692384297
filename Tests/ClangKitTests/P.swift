import XCTest
import ClangKit
final class PlaceholderClangTests: XCTestCase { func testVersion() { XCTAssertTrue(libclangVersion().contains("clang")) } }
