//! The real `moot-sandbox` binary over HTTP: start it, read its URL from the
//! first stdout line, exercise its flags, stop it with SIGTERM. The HTTP
//! surface itself is tested in-process (moot's `tests/it/sandbox.rs`); these
//! tests are about the process: flags, output, logging, signals.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const PAT: &str = "mootup_pat_sandbox";
const BIN: &str = env!("CARGO_BIN_EXE_moot-sandbox");

struct Server {
    child: Child,
    url: String,
    rt: tokio::runtime::Runtime,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn moot-sandbox");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "first line: {url:?}");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Server { child, url, rt }
    }

    /// One request; the status and the JSON body (Null when not JSON).
    fn call(&self, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
        let (status, _, body) = self.send(method, path, token, None);
        (status, body)
    }

    /// One request with an optional JSON body; status, `Retry-After`, body.
    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Option<String>, Value) {
        self.rt.block_on(async {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let mut req = reqwest::Client::new().request(method, format!("{}{path}", self.url));
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            if let Some(body) = body {
                req = req.json(&body);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            (
                status,
                retry_after,
                resp.json().await.unwrap_or(Value::Null),
            )
        })
    }

    /// first-key for every agent, then each ticket exchanged in turn: the
    /// status and `Retry-After` of each exchange.
    fn key_everyone(&self) -> Vec<(u16, Option<String>)> {
        let tickets: Vec<String> = self
            .agents(PAT)
            .iter()
            .map(|a| {
                let path = format!("/api/agents/{}/first-key", a["actor_id"].as_str().unwrap());
                let (status, body) = self.call("POST", &path, Some(PAT));
                assert_eq!(status, 200, "{body}");
                body["registration_ticket_id"].as_str().unwrap().to_string()
            })
            .collect();
        tickets
            .iter()
            .map(|t| {
                let path = format!("/api/registration-tickets/{t}/exchange");
                let (status, retry, _) = self.send("POST", &path, None, None);
                (status, retry)
            })
            .collect()
    }

    fn agents(&self, token: &str) -> Vec<Value> {
        let (status, body) = self.call("GET", "/api/actors/me/agents", Some(token));
        assert_eq!(status, 200, "{body}");
        body.as_array().unwrap().clone()
    }

    fn agent_id(&self, name: &str) -> String {
        let agents = self.agents(PAT);
        let agent = agents
            .iter()
            .find(|a| a["display_name"] == name)
            .unwrap_or_else(|| panic!("no agent {name}"));
        agent["actor_id"].as_str().unwrap().to_string()
    }

    /// SIGTERM, then the exit status (within 5 s).
    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id() as libc::pid_t;
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "moot-sandbox ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn it_serves_the_default_agents_and_stops_on_sigterm() {
    let mut server = Server::start(&[]);
    let (status, me) = server.call("GET", "/api/actors/me", Some(PAT));
    assert_eq!(status, 200);
    assert_eq!(me["actor_type"], "human");
    let names: Vec<_> = server
        .agents(PAT)
        .iter()
        .map(|a| a["display_name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Product", "Spec", "Implementation", "QA"]);
    assert_eq!(server.call("GET", "/health", None).0, 200);
    assert!(server.terminate().success());
}

#[test]
fn a_connected_agent_needs_force() {
    let mut server = Server::start(&["--agents", "Product,QA", "--connected", "qa"]);
    let qa = server.agent_id("QA");
    let (status, _) = server.call("POST", &format!("/api/actors/{qa}/rotate-key"), Some(PAT));
    assert_eq!(status, 409);
    let forced = server.rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/api/actors/{qa}/rotate-key", server.url))
            .bearer_auth(PAT)
            .header("X-Force-Rotate", "true")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(forced, 200);
    assert!(server.terminate().success());
}

#[test]
fn fail_rotate_answers_500_and_changes_nothing() {
    let server = Server::start(&["--fail-rotate", "SPEC"]);
    let spec = server.agent_id("Spec");
    let (status, _) = server.call("POST", &format!("/api/actors/{spec}/rotate-key"), Some(PAT));
    assert_eq!(status, 500);
    let after = server.agents(PAT);
    let spec_after = after.iter().find(|a| a["actor_id"] == spec).unwrap();
    assert_eq!(spec_after["api_key_prefix"], Value::Null);
    let product = server.agent_id("Product");
    let (status, _) = server.call(
        "POST",
        &format!("/api/actors/{product}/rotate-key"),
        Some(PAT),
    );
    assert_eq!(status, 200, "others rotate fine");
}

#[test]
fn ticket_mode_logs_requests_without_secrets() {
    let mut server = Server::start(&["--ticket-mode", "-v"]);
    let product = server.agent_id("Product");
    let (status, rotated) = server.call(
        "POST",
        &format!("/api/actors/{product}/rotate-key"),
        Some(PAT),
    );
    assert_eq!(status, 200);
    assert!(rotated.get("api_key").is_none(), "{rotated}");
    let ticket = rotated["registration_ticket_id"].as_str().unwrap();
    let path = format!("/api/registration-tickets/{ticket}/exchange");
    let (status, exchanged) = server.call("POST", &path, None);
    assert_eq!(status, 200);
    let key = exchanged["api_key"].as_str().unwrap().to_string();
    assert_eq!(server.call("POST", &path, None).0, 409);

    let stderr = server.child.stderr.take().unwrap();
    assert!(server.terminate().success());
    let log = std::io::read_to_string(stderr).unwrap();
    assert!(
        log.contains("POST /api/registration-tickets/(ticket)/exchange -> 409"),
        "{log}"
    );
    assert!(
        !log.contains(ticket) && !log.contains(&key) && !log.contains(PAT),
        "{log}"
    );
}

#[test]
fn agent_count_generates_agents_and_bad_flags_fail() {
    let mut server = Server::start(&["--agent-count", "25", "--token", "mootup_pat_other"]);
    let agents = server.agents("mootup_pat_other");
    assert_eq!(agents.len(), 25);
    assert_eq!(agents[24]["display_name"], "Agent 25");
    assert!(server.terminate().success());

    let out = Command::new(BIN)
        .args(["--connected", "Nobody"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no URL when it cannot start");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Nobody"));
}

#[test]
fn help_says_it_is_not_a_production_server() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("NOT a production server"));
}

#[test]
fn the_platform_limit_applies_by_default_and_flags_change_it() {
    let ok = (200, None);
    let server = Server::start(&["--agent-count", "6"]);
    let answers = server.key_everyone();
    assert_eq!(answers[..5], vec![ok.clone(); 5], "five at once");
    assert_eq!(
        answers[5],
        (429, Some("12".to_string())),
        "then one each 12 s"
    );

    let server = Server::start(&["--agent-count", "6", "--exchange-rate", "off"]);
    assert_eq!(server.key_everyone(), vec![ok.clone(); 6]);

    let args = [
        "--agent-count",
        "3",
        "--exchange-rate",
        "6/min",
        "--exchange-burst",
        "2",
    ];
    let server = Server::start(&args);
    let answers = server.key_everyone();
    assert_eq!(answers[..2], vec![ok.clone(); 2]);
    assert_eq!(answers[2], (429, Some("10".to_string())));
}

#[test]
fn ticket_ttl_and_legacy() {
    let server = Server::start(&["--agents", "Product", "--ticket-ttl", "0"]);
    assert_eq!(server.key_everyone(), [(410, None)]);

    let server = Server::start(&["--agents", "Product", "--legacy"]);
    let product = server.agent_id("Product");
    let (status, body) = server.call(
        "POST",
        &format!("/api/actors/{product}/rotate-key"),
        Some(PAT),
    );
    assert_eq!(status, 200);
    assert!(body["api_key"].is_string(), "{body}");
    let (status, _, body) = server.send(
        "POST",
        "/api/agents",
        Some(PAT),
        Some(json!({"role": "qa"})),
    );
    assert_eq!((status, body), (404, json!({"detail": "Not Found"})));
}

#[test]
fn endpoint_and_create_switches() {
    let args = [
        "--agents",
        "Product",
        "--no-agents-endpoint",
        "--no-first-key",
        "--space-status",
        "archived",
    ];
    let server = Server::start(&args);
    let (status, _, _) = server.send(
        "POST",
        "/api/agents",
        Some(PAT),
        Some(json!({"role": "qa"})),
    );
    assert_eq!(status, 404);
    let product = server.agent_id("Product");
    let (status, _) = server.call(
        "POST",
        &format!("/api/agents/{product}/first-key"),
        Some(PAT),
    );
    assert_eq!(status, 404);
    let (_, me) = server.call("GET", "/api/actors/me", Some(PAT));
    let space = me["default_space_id"].as_str().unwrap();
    let (status, body) = server.call("GET", &format!("/api/spaces/{space}"), Some(PAT));
    assert_eq!((status, body["status"].as_str()), (200, Some("archived")));

    let server = Server::start(&[
        "--agents",
        "Product",
        "--fail-create",
        "QA",
        "--lose-create",
        "spec",
    ]);
    let (status, _, body) = server.send(
        "POST",
        "/api/agents",
        Some(PAT),
        Some(json!({"role": "qa"})),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (500, Some("internal_error"))
    );
    let (status, _, _) = server.send(
        "POST",
        "/api/agents",
        Some(PAT),
        Some(json!({"role": "spec"})),
    );
    assert_eq!(status, 500);
    let names: Vec<_> = server
        .agents(PAT)
        .iter()
        .map(|a| a["display_name"].clone())
        .collect();
    assert_eq!(names, ["Product", "spec"], "the lost answer created spec");
}

#[test]
fn bad_rates_and_lifetimes_are_refused() {
    for (args, fragment) in [
        (&["--exchange-rate", "0/s"][..], "--exchange-rate"),
        (&["--exchange-rate", "5/h"][..], "unit"),
        (&["--ticket-ttl=-1"][..], "seconds"),
        (&["--exchange-burst", "0"][..], "exchange-burst"),
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "no URL when it cannot start");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(fragment), "{args:?}: {err}");
    }
}
