//! OpenResty's own clients on the same servers as ours: Debian's nginx with
//! lua-nginx-module, serving `content_by_lua_block` locations that a test writes (which
//! `require "resty.redis"` / `"resty.memcached"`, Debian's lua-resty-redis and
//! lua-resty-memcached), so a client case can compare its results with what
//! lua-resty-* returns for the same commands against the same server.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use super::{Process, TempDir, find_binary, start_listening};

/// The Debian packages of OpenResty's half.
pub const OPENRESTY_PACKAGES: &str = "nginx libnginx-mod-http-lua lua-resty-core lua-resty-lrucache lua-nginx-redis lua-nginx-memcached";

/// The modules nginx loads, in order (the lua module needs the NDK).
const MODULES: [&str; 2] = [
    "/usr/lib/nginx/modules/ndk_http_module.so",
    "/usr/lib/nginx/modules/ngx_http_lua_module.so",
];

/// A running nginx with lua-nginx-module; stopped (by PID) when dropped.
#[derive(Debug)]
pub struct OpenResty {
    // Fields drop in order: the process before the directory it works in.
    process: Process,
    port: u16,
    _dir: TempDir,
}

impl OpenResty {
    /// Starts nginx serving each `(path, lua)` as `location = path { content_by_lua_block
    /// { lua } }`.
    pub fn start(locations: &[(&str, &str)]) -> Self {
        let binary = find_binary(
            "nginx",
            &["/usr/sbin", "/usr/local/sbin"],
            OPENRESTY_PACKAGES,
        );
        for module in MODULES {
            assert!(
                Path::new(module).is_file(),
                "{module} is missing; OpenResty's clients need `apt-get install {OPENRESTY_PACKAGES}`"
            );
        }
        for lib in ["nginx/redis.lua", "nginx/memcached.lua", "resty/core.lua"] {
            assert!(
                Path::new("/usr/share/lua/5.1").join(lib).is_file(),
                "/usr/share/lua/5.1/{lib} is missing: `apt-get install {OPENRESTY_PACKAGES}`"
            );
        }
        let dir = TempDir::new("openresty");
        std::fs::create_dir_all(dir.join("lualib/resty")).expect("the lua directory");
        std::fs::create_dir_all(dir.join("tmp")).expect("the temporary directory");
        // Debian ships lua-resty-redis and lua-resty-memcached as `nginx.*`.
        for name in ["redis", "memcached"] {
            std::fs::write(
                dir.join(&format!("lualib/resty/{name}.lua")),
                format!("return require \"nginx.{name}\"\n"),
            )
            .expect("a lua shim");
        }
        let (process, port) = start_listening("openresty", &binary, &dir, |port| {
            std::fs::write(dir.join("nginx.conf"), config(&dir, port, locations))
                .expect("nginx.conf");
            let mut args: Vec<OsString> = Vec::new();
            args.extend(["-e".into(), dir.join("error.log").into()]);
            args.extend(["-p".into(), dir.path().into()]);
            args.extend(["-c".into(), dir.join("nginx.conf").into()]);
            args
        });
        Self {
            process,
            port,
            _dir: dir,
        }
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// `GET path` (blocking, HTTP/1.0): the status and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut conn = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to nginx");
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(conn, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send");
        let mut response = String::new();
        conn.read_to_string(&mut response)
            .expect("read the response");
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a bad response: {response:?}"));
        (status, body.to_owned())
    }
}

fn config(dir: &TempDir, port: u16, locations: &[(&str, &str)]) -> String {
    let d = dir.path().display();
    let mut servers = String::new();
    for (path, lua) in locations {
        servers.push_str(&format!(
            "        location = {path} {{\n            content_by_lua_block {{\n{lua}\n            }}\n        }}\n"
        ));
    }
    let modules: String = MODULES
        .iter()
        .map(|m| format!("load_module {m};\n"))
        .collect();
    super::nginx::frame(
        dir,
        &modules,
        "warn",
        &format!(
            r#"    access_log off;
    lua_package_path "{d}/lualib/?.lua;/usr/share/lua/5.1/?.lua;;";
    server {{
        listen 127.0.0.1:{port};
{servers}    }}
"#
        ),
    )
}
