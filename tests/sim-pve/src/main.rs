//! Runs the Proxmox VE simulator on its own:
//! `cargo run -p puq-sim-pve -- --listen 127.0.0.1:8006 [--tls] [--schema path/to/apidata.js]`.

use std::process::ExitCode;

use puq_sim_pve::{default_schema_path, Schema, Sim, SimOptions};

const USAGE: &str =
    "usage: puq-sim-pve [--listen ADDR] [--tls] [--task-ms MS] [--schema APIDATA_JS]\n\
  --listen ADDR   address to listen on (default 127.0.0.1:8006)\n\
  --task-ms MS    how long each task (clone, start, ...) runs (default 50)\n\
  --tls           HTTPS with a generated self-signed certificate (its fingerprint is printed)\n\
  --schema PATH   apidata.js to check requests against (default: the repository's spec copy)";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut listen = "127.0.0.1:8006".to_string();
    let mut tls = false;
    let mut schema_path = default_schema_path();
    let mut options = SimOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().unwrap_or_default(),
            "--tls" => tls = true,
            "--task-ms" => match args.next().and_then(|v| v.parse::<u64>().ok()) {
                Some(ms) => options.task_duration = std::time::Duration::from_millis(ms),
                None => {
                    eprintln!("--task-ms needs a number of milliseconds\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--schema" => schema_path = args.next().unwrap_or_default().into(),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument '{other}'\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let schema = match Schema::load(&schema_path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let creds = options.credentials.clone();
    let sim = Sim::new(options, schema);
    let running = match sim.serve(&listen, tls).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!("Proxmox VE simulator on {}/api2/json", running.base_url());
    if let Some(fp) = &running.fingerprint {
        println!("certificate fingerprint (SHA-256): {fp}");
    }
    println!("API token: {}={}", creds.token_id, creds.token_secret);
    println!("ticket login: {} / {}", creds.user, creds.password);
    println!(
        "control API: {}/_sim/requests, /_sim/violations, POST /_sim/fault",
        running.base_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
