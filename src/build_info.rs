//! What this build is: version, git revision and the PHP API it targets (from `build.rs`).

/// The module's version (`Cargo.toml`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git revision the build came from, `-modified` when the tree had changes.
pub const REVISION: &str = env!("PUQ_BUILD_REVISION");
/// The PHP API number (`php-config --phpapi`) the extension was built for.
pub const PHP_API: &str = env!("PUQ_BUILD_PHP_API");
/// The PHP version whose headers the build used.
pub const PHP_VERSION: &str = env!("PUQ_BUILD_PHP_VERSION");

/// `0.1.0 (rev 1a2b3c4d5e6f)`.
pub fn version_string() -> String {
    format!("{VERSION} (rev {REVISION})")
}
