//! nginx, plain and with `ssl` (two ports): one process (`daemon off; master_process off;`) run as the current
//! user with every path it writes (error and access logs, PID file, temporary
//! directories) inside its own directory, so it runs as root or not and touches nothing
//! of the machine's nginx.
//!
//! It serves:
//!
//! * [`Nginx::SMALL`]: [`Nginx::small_body`] (100 bytes) and [`Nginx::LARGE`]:
//!   [`Nginx::large_body`] (1 MiB), both with `Content-Length`;
//! * [`Nginx::SSI`]: a chunked response. nginx sends a static file with
//!   `Content-Length`, and `return 200 …` too; the `ssi` filter (built into Debian's
//!   nginx) drops the length of what it processes, so HTTP/1.1 gets it chunked. The page
//!   echoes `$ssl_protocol`: [`Nginx::ssi_body`].
//!
//! * `/500`: a 500 error page; `/redirect`: a 302 to [`Nginx::SMALL`];
//! * under [`Nginx::CLOSE`] (`/close/small.txt`, …): the same files with
//!   `keepalive_timeout 0`, so nginx answers `Connection: close` and closes.
//!
//! The access log ([`Nginx::access_log`]) records `$connection` and
//! `$connection_requests`, so a case sees which requests shared a connection.

use std::ffi::OsString;

use super::{Process, SERVER_NAME, TempDir, TestPki, find_binary, start_listening};

/// The SSI page's source: its `echo` is replaced by the negotiated protocol.
const SSI_SOURCE: &str = "first part\n<!--# echo var=\"ssl_protocol\" -->\nlast part\n";

/// One line of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLine {
    /// `$connection`: the connection's serial number.
    pub connection: u64,
    /// `$connection_requests`: the request's number on its connection (1 for the first).
    pub requests: u64,
    /// `$status`.
    pub status: u16,
    /// `$ssl_protocol` (`-` without TLS).
    pub protocol: String,
    /// `$ssl_session_reused` (`r` when the handshake resumed a session).
    pub reused: bool,
    /// `$request`: the request line.
    pub request: String,
}

impl AccessLine {
    fn parse(line: &str) -> Option<Self> {
        let mut words = line.splitn(6, ' ');
        let connection = words.next()?.parse().ok()?;
        let requests = words.next()?.parse().ok()?;
        let status = words.next()?.parse().ok()?;
        let protocol = words.next()?.to_owned();
        let reused = words.next()? == "r";
        let request = words.next()?.trim_matches('"').to_owned();
        Some(Self {
            connection,
            requests,
            status,
            protocol,
            reused,
            request,
        })
    }
}

/// A running nginx on 127.0.0.1, with `ssl` on [`port`](Nginx::port) and plain HTTP on
/// [`plain_port`](Nginx::plain_port), and a [`TestPki`] of its own; stopped when dropped.
#[derive(Debug)]
pub struct Nginx {
    // Fields drop in order: the process before the directory it works in.
    process: Process,
    port: u16,
    plain_port: u16,
    pki: TestPki,
    dir: TempDir,
}

impl Nginx {
    /// The path of the 100-byte file.
    pub const SMALL: &'static str = "/small.txt";
    /// The path of the 1 MiB file.
    pub const LARGE: &'static str = "/large.bin";
    /// The path of the chunked (SSI) page.
    pub const SSI: &'static str = "/ssi/page.html";
    /// The prefix under which every file is served with `Connection: close`.
    pub const CLOSE: &'static str = "/close";

    /// Starts nginx (`ssl_protocols TLSv1.2 TLSv1.3`).
    pub fn start() -> Self {
        let binary = find_binary(
            "nginx",
            &["/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"],
            "nginx",
        );
        let dir = TempDir::new("nginx");
        let pki = TestPki::generate(dir.path());
        for sub in ["www", "www/ssi", "tmp"] {
            std::fs::create_dir_all(dir.join(sub)).expect("nginx's directories");
        }
        let write = |name: &str, bytes: &[u8]| {
            std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("write {name}: {e}"));
        };
        write("www/small.txt", &Self::small_body());
        write("www/large.bin", &Self::large_body());
        write("www/ssi/page.html", SSI_SOURCE.as_bytes());
        let mut plain_port = 0;
        let (process, port) = start_listening("nginx", &binary, &dir, |port| {
            // nginx binds both ports before it accepts on either; a lost race for either
            // makes it exit, and the start is tried again with two new ports.
            plain_port = super::free_port();
            write("nginx.conf", config(&dir, port, plain_port).as_bytes());
            let mut args: Vec<OsString> = Vec::new();
            // `-e`: the error log before the configuration is read; the default one
            // (/var/log/nginx/error.log) may not be writable.
            args.extend(["-e".into(), dir.join("error.log").into()]);
            args.extend(["-p".into(), dir.path().into()]);
            args.extend(["-c".into(), dir.join("nginx.conf").into()]);
            args
        });
        Self {
            process,
            port,
            plain_port,
            pki,
            dir,
        }
    }

    /// The TLS port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The plain HTTP port on 127.0.0.1.
    pub fn plain_port(&self) -> u16 {
        self.plain_port
    }

    /// The certificates.
    pub fn pki(&self) -> &TestPki {
        &self.pki
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// The body of [`Nginx::SMALL`]: 100 bytes.
    pub fn small_body() -> Vec<u8> {
        (0..100u8).map(|i| b'a' + i % 26).collect()
    }

    /// The body of [`Nginx::LARGE`]: 1 MiB of seeded pseudo-random bytes.
    pub fn large_body() -> Vec<u8> {
        let mut rng = fastrand::Rng::with_seed(0x636f_736f_636b_6574);
        let mut body = vec![0; 1 << 20];
        rng.fill(&mut body);
        body
    }

    /// What [`Nginx::SSI`] decodes to when the connection negotiated `protocol`.
    pub fn ssi_body(protocol: &str) -> String {
        SSI_SOURCE.replace("<!--# echo var=\"ssl_protocol\" -->", protocol)
    }

    /// The access log so far, one [`AccessLine`] per request.
    pub fn access_log(&self) -> Vec<AccessLine> {
        std::fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(|line| AccessLine::parse(line).unwrap_or_else(|| panic!("access log: {line:?}")))
            .collect()
    }

    /// The error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

/// nginx.conf for `dir`, the TLS `port` and the `plain` one.
fn config(dir: &TempDir, port: u16, plain: u16) -> String {
    let d = dir.path().display();
    frame(
        dir,
        "",
        "info",
        &format!(
            r#"    types {{
        text/plain txt;
        text/html html;
        application/octet-stream bin;
    }}
    default_type application/octet-stream;
    log_format conns '$connection $connection_requests $status $ssl_protocol $ssl_session_reused "$request"';
    access_log {d}/access.log conns;
    keepalive_timeout 60s;
    keepalive_requests 1000;
    server {{
        listen 127.0.0.1:{port} ssl;
        listen 127.0.0.1:{plain};
        server_name {SERVER_NAME};
        ssl_certificate {d}/server.pem;
        ssl_certificate_key {d}/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        root {d}/www;
        location /ssi/ {{
            ssi on;
        }}
        location = /500 {{
            return 500;
        }}
        location = /redirect {{
            return 302 /small.txt;
        }}
        location /close/ {{
            keepalive_timeout 0;
            alias {d}/www/;
        }}
    }}
"#
        ),
    )
}

/// An nginx.conf for a single foreground process (`daemon off; master_process off;`, one
/// worker) that writes only inside `dir`: `preamble` first (`load_module` lines), then the
/// process settings, then `http { <temporary paths> http }`.
pub(super) fn frame(dir: &TempDir, preamble: &str, error_level: &str, http: &str) -> String {
    let d = dir.path().display();
    format!(
        r#"{preamble}daemon off;
master_process off;
worker_processes 1;
error_log {d}/error.log {error_level};
pid {d}/nginx.pid;
events {{
    worker_connections 64;
}}
http {{
    client_body_temp_path {d}/tmp/client_body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
{http}}}
"#
    )
}
