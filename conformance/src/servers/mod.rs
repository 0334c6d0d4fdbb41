//! Real servers that no code here wrote (feature `tls`), for the TLS cases of
//! `cases/tls_servers.rs` and the client libraries' tests (`clients/`): `openssl s_server`
//! ([`SServer`]), nginx plain and with `ssl` ([`Nginx`]), `redis-server` ([`RedisServer`]),
//! `memcached` ([`Memcached`]) and `dnsmasq` ([`Dnsmasq`]), each on 127.0.0.1 on a free
//! port (or a Unix socket), with no persistence, in a temporary directory of its own
//! ([`TempDir`]); TLS servers get certificates made by rcgen when they start (a test CA, a
//! `localhost` leaf it signed and a client certificate it signed: [`TestPki`]).
//!
//! * A missing binary fails the case with how to install it (`apt-get install …`, the
//!   Debian package named): these cases never skip, so a machine without the servers
//!   cannot pass them by accident.
//! * A server is stopped by PID when dropped (kill, then wait), and its directory is then
//!   removed. A case the watchdog abandons never drops its server, so servers are also
//!   started under `setpriv --pdeathsig KILL` from one thread that lives as long as the
//!   test process: the kernel kills them when the process ends, however it ends.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

use cosocket_core::tls::{ClientCert, TlsOptions, TrustStore};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};

mod dnsmasq;
mod memcached;
mod nginx;
mod openresty;
mod openssl;
mod redis;

pub use dnsmasq::{DnsRecord, Dnsmasq};
pub use memcached::Memcached;
pub use nginx::{AccessLine, Nginx};
pub use openresty::{OPENRESTY_PACKAGES, OpenResty};
pub use openssl::SServer;
pub use redis::RedisServer;

/// The name every server certificate is for (and the server name the cases verify).
pub const SERVER_NAME: &str = "localhost";

/// How `apt-get` installs every server of this module (Debian's `nginx` package holds
/// `/usr/sbin/nginx`, built with the `ssl` and `ssi` modules; `dnsmasq-base` holds
/// `/usr/sbin/dnsmasq` without starting a system service).
pub const INSTALL: &str = "apt-get install openssl nginx redis-server memcached dnsmasq-base";

/// A fresh directory under the system's temporary directory, removed with its contents
/// when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Makes `<tmp>/cosocket-<what>-<pid>-<n>`.
    pub fn new(what: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        static SWEPT: OnceLock<()> = OnceLock::new();
        SWEPT.get_or_init(sweep_dead);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("cosocket-{what}-{}-{n}", std::process::id()));
        // A directory left by an earlier process with a recycled PID is not ours to keep.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("create the directory {}: {e}", path.display()));
        Self { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `name` inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Removes the directories of servers whose test process is gone: a process killed
/// (SIGKILL, a crash) drops nothing, and its servers die with it, but their directories
/// stay behind.
fn sweep_dead() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("cosocket-")) else {
            continue;
        };
        // `<what>-<pid>-<n>`, `<what>` one of this module's servers.
        let mut parts = rest.rsplitn(3, '-');
        let (Some(_), Some(pid), Some(what)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let ours = [
            "s_server",
            "nginx",
            "redis",
            "memcached",
            "dnsmasq",
            "openresty",
        ];
        let ours = ours.contains(&what);
        if ours && pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A test CA and the certificates it signed, written into a directory as PEM files:
/// `ca.pem`, `server.pem` and `server.key` (a leaf for [`SERVER_NAME`]), `client.pem`
/// and `client.key` (a client certificate).
pub struct TestPki {
    ca_pem: String,
    trust: TrustStore,
    client: ClientCert,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki")
            .field("trust", &self.trust)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl TestPki {
    /// Makes the CA and its certificates (ECDSA P-256) and writes them into `dir`.
    pub fn generate(dir: &Path) -> Self {
        let write = |name: &str, pem: &str| {
            std::fs::write(dir.join(name), pem).unwrap_or_else(|e| panic!("write {name}: {e}"));
        };
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca.distinguished_name
            .push(DnType::CommonName, "cosocket conformance CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_pem = ca.self_signed(&ca_key).expect("the CA certificate").pem();
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().expect("a server key");
        let mut server = CertificateParams::new(vec![SERVER_NAME.to_owned()]).expect("names");
        server
            .distinguished_name
            .push(DnType::CommonName, SERVER_NAME);
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server
            .signed_by(&server_key, &issuer)
            .expect("the server certificate");

        let client_key = KeyPair::generate().expect("a client key");
        let mut client = CertificateParams::new(Vec::<String>::new()).expect("parameters");
        client
            .distinguished_name
            .push(DnType::CommonName, "cosocket conformance client");
        // OpenSSL checks the purpose of a client certificate when it has one.
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = client
            .signed_by(&client_key, &issuer)
            .expect("the client certificate");

        write("ca.pem", &ca_pem);
        write("server.pem", &server.pem());
        write("server.key", &server_key.serialize_pem());
        write("client.pem", &client.pem());
        write("client.key", &client_key.serialize_pem());
        Self {
            trust: TrustStore::from_pem(ca_pem.as_bytes()).expect("the CA parses"),
            client: ClientCert::from_pem(
                client.pem().as_bytes(),
                client_key.serialize_pem().as_bytes(),
            )
            .expect("a usable client certificate"),
            ca_pem,
        }
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA as a trust store: always the same store, so that TLS options made with it
    /// share a pool key.
    pub fn trust(&self) -> TrustStore {
        self.trust.clone()
    }

    /// The client certificate the CA signed.
    pub fn client_cert(&self) -> ClientCert {
        self.client.clone()
    }

    /// Verified against the CA for [`SERVER_NAME`].
    pub fn verified(&self) -> TlsOptions {
        TlsOptions::new()
            .server_name(SERVER_NAME)
            .trust(self.trust())
    }
}

/// A running server process: killed and waited for when dropped.
#[derive(Debug)]
pub(crate) struct Process {
    child: Child,
    what: &'static str,
    stderr: PathBuf,
}

impl Process {
    /// The PID.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// What the server wrote to its error output so far.
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits (at most 10 s) until the server accepts on `port`; an error (with the
    /// server's error output) if it exits first.
    fn wait_accepting(&mut self, port: u16) -> Result<(), String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited ({status}) before accepting:\n{}",
                    self.what,
                    self.stderr()
                ));
            }
            // The probe connection closes at once: s_server logs a failed accept and
            // goes on, nginx logs nothing in its access log.
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "{} did not accept on port {port} within 10 s:\n{}",
            self.what,
            self.stderr()
        ))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether this process runs as root (`/proc/self` belongs to the effective user): memcached
/// and dnsmasq must then be told which user to be.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A port that was free a moment ago (the server may lose a race for it: see
/// [`start_listening`]).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Where `name` is: the first of `PATH`'s directories and then `also` that holds it.
/// Fails (never skips) with how to install it: `apt-get install <package>`.
fn find_binary(name: &str, also: &[&str], package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(also.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed (looked in PATH and {also:?}); these cases need \
                 the real server: `apt-get install {package}` (all of them: `{INSTALL}`)"
            )
        })
}

/// A spawn request for the spawner thread, and where its result goes.
type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns `command` from one thread that lives as long as the process: a parent-death
/// signal fires when the thread that forked the child ends, so the child must not be
/// forked by a case thread (which ends with its case).
fn spawn_from_process_thread(command: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<mpsc::Sender<SpawnRequest>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("cosocket-server-spawner".to_owned())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("spawn the server spawner thread");
        tx
    });
    let (reply, result) = mpsc::channel();
    spawner
        .send((command, reply))
        .map_err(|_| io::Error::other("the spawner thread is gone"))?;
    result
        .recv()
        .map_err(|_| io::Error::other("the spawner thread is gone"))?
}

/// Starts `binary args` with its output in `dir` (`<what>.out`, `<what>.err`) and waits
/// until it accepts on its port. `args` gets the port to listen on; a server that exits
/// before accepting (another process took the port between [`free_port`] and its bind)
/// is tried again on another port, at most five times.
fn start_listening(
    what: &'static str,
    binary: &Path,
    dir: &TempDir,
    mut args: impl FnMut(u16) -> Vec<OsString>,
) -> (Process, u16) {
    let mut last = String::new();
    for _ in 0..5 {
        let port = free_port();
        let mut process = spawn(what, binary, dir, args(port));
        match process.wait_accepting(port) {
            Ok(()) => return (process, port),
            Err(e) => last = e,
        }
    }
    panic!("{what} did not start: {last}");
}

/// Starts `binary args` (with its output in `dir`) and waits (at most 10 s) until it
/// accepts on the Unix socket `path`.
fn start_on_unix_socket(
    what: &'static str,
    binary: &Path,
    dir: &TempDir,
    path: &Path,
    args: Vec<OsString>,
) -> Process {
    let mut process = spawn(what, binary, dir, args);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(status)) = process.child.try_wait() {
            panic!(
                "{what} exited ({status}) before accepting:\n{}",
                process.stderr()
            );
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return process;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not accept on {} within 10 s", path.display());
}

/// Spawns `binary args` in `dir`, its output in `<what>.out` and `<what>.err` there,
/// under a parent-death signal.
fn spawn(what: &'static str, binary: &Path, dir: &TempDir, args: Vec<OsString>) -> Process {
    // util-linux's setpriv (Debian's essential util-linux) sets the parent-death signal
    // and execs the server, so the child's PID is the server's own.
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_file());
    let mut command = match setpriv {
        Some(setpriv) => {
            let mut c = Command::new(setpriv);
            c.args(["--pdeathsig", "KILL", "--"]).arg(binary);
            c
        }
        None => Command::new(binary),
    };
    let out = File::create(dir.join(&format!("{what}.out"))).expect("the output file");
    let stderr = dir.join(&format!("{what}.err"));
    let err = File::create(&stderr).expect("the error output file");
    command
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    let child = spawn_from_process_thread(command)
        .unwrap_or_else(|e| panic!("cannot start `{}` ({e}): `{INSTALL}`", binary.display()));
    Process {
        child,
        what,
        stderr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "apt-get install no-such-package")]
    fn a_missing_binary_fails_with_how_to_install_it() {
        find_binary(
            "cosocket-no-such-server",
            &["/nonexistent"],
            "no-such-package",
        );
    }

    #[test]
    fn a_server_is_gone_after_drop() {
        let server = SServer::start(cosocket_core::tls::TlsVersions::ALL, false);
        let pid = server.pid();
        assert!(Path::new("/proc").join(pid.to_string()).exists());
        drop(server);
        // Killed and reaped: no process, not even a zombie.
        assert!(!Path::new("/proc").join(pid.to_string()).exists());
    }

    /// Sends `request` and reads until `done` holds of what came back (5 s at most).
    fn exchange(port: u16, request: &[u8], done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        use std::io::{Read, Write};
        let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        conn.write_all(request).expect("send");
        let mut got = Vec::new();
        let mut buf = [0; 4096];
        while !done(&got) {
            let n = conn.read(&mut buf).expect("read");
            assert!(n > 0, "closed after {got:?}");
            got.extend_from_slice(&buf[..n]);
        }
        got
    }

    #[test]
    fn redis_memcached_and_dnsmasq_start_answer_and_stop() {
        let redis = RedisServer::start();
        let pong = exchange(redis.port(), b"PING\r\n", |g| g.ends_with(b"\r\n"));
        assert_eq!(pong, b"+PONG\r\n");
        let memcached = Memcached::start();
        let version = exchange(memcached.port(), b"version\r\n", |g| g.ends_with(b"\r\n"));
        assert!(version.starts_with(b"VERSION "), "{version:?}");
        let dns = Dnsmasq::start(&[DnsRecord::A("a.test".into(), [10, 0, 0, 1].into())]);
        // A query over TCP: length prefix, ID 0x1234, RD, one question `a.test A IN`.
        let query = b"\x00\x18\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x04test\x00\x00\x01\x00\x01";
        let reply = exchange(dns.port(), query, |g| {
            g.len() >= 2 && g.len() >= 2 + usize::from(u16::from_be_bytes([g[0], g[1]]))
        });
        assert_eq!(&reply[2..4], b"\x12\x34");
        assert!(reply.ends_with(&[10, 0, 0, 1]), "{reply:?}\n{}", dns.log());
        let pids = [redis.pid(), memcached.pid(), dns.pid()];
        drop((redis, memcached, dns));
        for pid in pids {
            assert!(!Path::new("/proc").join(pid.to_string()).exists());
        }
    }
}
