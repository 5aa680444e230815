//! Runs the Cloudflare or HestiaCP simulator on its own, for trying the module by hand:
//!
//!   cargo run -p puq-sim-dns -- cloudflare --token TOKEN --zone example.com
//!   cargo run -p puq-sim-dns -- hestia --admin admin --password PW --user web --zone example.com

use puq_sim_dns::cloudflare::CloudflareSim;
use puq_sim_dns::hestia::HestiaSim;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str, default: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    let zones: Vec<String> = args
        .windows(2)
        .filter(|w| w[0] == "--zone")
        .map(|w| w[1].clone())
        .collect();
    match args.first().map(String::as_str) {
        Some("cloudflare") => {
            let sim = CloudflareSim::start(&value("--token", "token"));
            let ids: serde_json::Map<String, serde_json::Value> = zones
                .iter()
                .map(|z| (z.clone(), sim.add_zone(z).into()))
                .collect();
            // One JSON line first, for scripts: {"url": ..., "zones": {name: zone id}}.
            println!("{}", serde_json::json!({"url": sim.url(), "zones": ids}));
        }
        Some("hestia") => {
            let sim =
                HestiaSim::start(&value("--admin", "admin"), &value("--password", "password"));
            for z in &zones {
                sim.add_domain(&value("--user", "admin"), z);
            }
            println!("{}", serde_json::json!({"url": sim.url(), "zones": zones}));
        }
        _ => {
            eprintln!("usage: puq-sim-dns cloudflare [--token T] [--zone NAME]... | hestia [--admin A] [--password P] [--user U] [--zone NAME]...");
            std::process::exit(2);
        }
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    eprintln!("press Ctrl-C to stop");
    loop {
        std::thread::park();
    }
}
