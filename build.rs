//! Embeds build metadata for `Module::version()` and `phpinfo()`: the crate version, the git
//! revision of the tree, and the PHP API the extension was built against.

use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    let revision = output("git", &["rev-parse", "--short=12", "HEAD"]).map(|rev| {
        let dirty = output("git", &["status", "--porcelain", "--untracked-files=no"]).is_some();
        if dirty {
            format!("{rev}-modified")
        } else {
            rev
        }
    });
    println!(
        "cargo:rustc-env=PUQ_BUILD_REVISION={}",
        revision.unwrap_or_else(|| "unknown".into())
    );

    let php_config = std::env::var("PHP_CONFIG").unwrap_or_else(|_| "php-config".into());
    let php_api = if std::env::var_os("CARGO_FEATURE_PHP").is_some() {
        output(&php_config, &["--phpapi"]).unwrap_or_else(|| "unknown".into())
    } else {
        "none (built without the php feature)".into()
    };
    let php_version = output(&php_config, &["--version"]).unwrap_or_default();
    println!("cargo:rustc-env=PUQ_BUILD_PHP_API={php_api}");
    println!("cargo:rustc-env=PUQ_BUILD_PHP_VERSION={php_version}");

    // Pack the relative relocations (DT_RELR, glibc 2.36+): the loader reads and applies a few
    // KiB instead of half a MiB of relocation entries each time PHP loads the extension.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu")
    {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,pack-relative-relocs");
    }

    println!("cargo:rerun-if-env-changed=PHP_CONFIG");
    for path in [".git/HEAD", ".git/index", ".git/refs/heads"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
