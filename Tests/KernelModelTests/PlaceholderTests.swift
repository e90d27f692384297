import XCTest
@testable import KernelModel
final class PlaceholderTests: XCTestCase { func testNothingYet() {} }
