//! What third parties compile entropo plugins against: the C ABI, the export macro, the loader and the conformance suites.
