//! `make dev`: the emulator, the resources, the seed, and the dev server on
//! http://127.0.0.1:3000 (`PORT` overrides). Ctrl-C stops everything.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use local::{Options, emulator, workspace_root};

fn fail(message: &str) -> ExitCode {
    eprintln!("make dev: {message}");
    ExitCode::FAILURE
}

#[tokio::main]
async fn main() -> ExitCode {
    shared::logging::init();
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => match p.parse() {
            Ok(p) => p,
            Err(_) => return fail(&format!("PORT must be a port number, not {p:?}")),
        },
        Err(_) => 3000,
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    // Check the port before starting anything else.
    if let Err(e) = std::net::TcpListener::bind(addr) {
        return fail(&local::server::bind_error(addr, &e));
    }
    let run_dir = workspace_root().join(".local-run");
    if let Err(e) = std::fs::create_dir_all(&run_dir) {
        return fail(&format!("cannot create {}: {e}", run_dir.display()));
    }
    // An emulator given from outside is used as it is; otherwise one is
    // started for this run and stopped with it.
    let (emulator_url, mut child) = match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let emu_port = match emulator::free_port() {
                Ok(p) => p,
                Err(e) => return fail(&e),
            };
            match emulator::spawn(emu_port, &run_dir.join("emulator.log")).await {
                Ok(child) => (format!("http://127.0.0.1:{emu_port}"), Some(child)),
                Err(e) => return fail(&e),
            }
        }
    };
    let table = std::env::var("LOCAL_TABLE").unwrap_or_else(|_| "enrollment-local".into());
    let options = Options {
        addr,
        emulator_url: emulator_url.clone(),
        // A run may have its own table (the browser tests give each stack
        // one, so that what the contract fuzzing wrote stays out of them).
        table: table.clone(),
        bucket: "enrollment-local-documents".into(),
        mail_from: local::MAIL_FROM.into(),
        secret: std::env::var("APP_SECRET").ok(),
        fault_proxy: false,
    };
    let running = match local::start(options).await {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    // Where `make admin` finds this stack (removed when it stops).
    let stack_file = run_dir.join("stack.json");
    let stack = serde_json::json!({ "emulator_url": emulator_url, "table": table, "base_url": running.base_url() });
    if let Err(e) = std::fs::write(&stack_file, stack.to_string()) {
        return fail(&format!("cannot write {}: {e}", stack_file.display()));
    }
    println!(
        "\nLocal stack ready: http://{a}  (tenant `demo`; emulator at {emulator_url})\n\
Parent portal: http://{a}/demo/\nStaff back-office: http://{a}/demo/staff/\n\
API: curl http://{a}/v1/demo/windows\nMails: http://{a}/_local/outbox\nCtrl-C stops everything.\n",
        a = running.addr
    );
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => return fail(&format!("cannot listen for signals: {e}")),
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
    println!("Stopping…");
    let _ = std::fs::remove_file(&stack_file);
    running.stop().await;
    if let Some(child) = child.as_mut() {
        let _ = child.kill().await;
    }
    ExitCode::SUCCESS
}
