//! The machine a run was made on, and small helpers around processes.

use std::path::Path;
use std::process::Command;

/// What the report says about the machine.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    pub cpu: String,
    pub nproc: String,
    pub memory: String,
    pub kernel: String,
    pub arch: String,
    pub rustc: String,
    pub date: String,
    pub load: String,
}

fn command(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The load average now (1, 5, 15 minutes).
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

impl Machine {
    pub fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|l| l.trim_start_matches([' ', '\t', ':']).trim().to_owned())
            .unwrap_or_else(|| "?".into());
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .map(|kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0))
            .unwrap_or_else(|| "?".into());
        Self {
            cpu,
            nproc: command("nproc", &[]).unwrap_or_else(|| "?".into()),
            memory,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(|_| "?".into()),
            arch: std::env::consts::ARCH.to_owned(),
            rustc: command("rustc", &["-V"]).unwrap_or_else(|| "?".into()),
            date: command("date", &["-u"]).unwrap_or_else(|| "?".into()),
            load: load(),
        }
    }
}

/// The size of `binary` zipped as `bootstrap` (deflate, as cargo-lambda
/// and `sam build` package a custom runtime), with python's zipfile.
pub fn zip_size(binary: &Path, dir: &Path) -> Result<u64, String> {
    let name = binary
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let zip = dir.join(format!("{name}.zip"));
    let script = [
        "import sys, zipfile",
        "with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as z:",
        "    info = zipfile.ZipInfo('bootstrap')",
        "    info.external_attr = 0o755 << 16",
        "    info.compress_type = zipfile.ZIP_DEFLATED",
        "    z.writestr(info, open(sys.argv[1], 'rb').read())",
    ]
    .join("\n");
    let status = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(binary)
        .arg(&zip)
        .status()
        .map_err(|e| format!("python3: {e}"))?;
    if !status.success() {
        return Err(format!("zipping {} failed", binary.display()));
    }
    std::fs::metadata(&zip)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", zip.display()))
}

/// The architecture of the `bootstrap` inside a Lambda zip, from its ELF
/// header (`e_machine`), with python's zipfile.
pub fn zip_arch(zip: &Path) -> Option<String> {
    let script = [
        "import sys, zipfile",
        "head = zipfile.ZipFile(sys.argv[1]).open('bootstrap').read(20)",
        "print(int.from_bytes(head[18:20], 'little') if head[:4] == b'\\x7fELF' else -1)",
    ]
    .join("\n");
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(zip)
        .output()
        .ok()?;
    let machine: i64 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    Some(
        match machine {
            0x3e => "x86_64",
            0xb7 => "aarch64",
            _ => "unknown",
        }
        .to_owned(),
    )
}
