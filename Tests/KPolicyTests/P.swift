import XCTest
final class PlaceholderKPolicyTests: XCTestCase { func testNothing() {} }
