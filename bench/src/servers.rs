//! The peers of the measurements: plain blocking threads, one per connection, pinned by the
//! driver to the other core. They run until the driver kills them.
//!
//! * `echo`: writes back whatever it reads (the ping-pong peer).
//! * `echo-slow`: the same, 1 ms after each read, so the client's receive always waits.
//! * `sink`: reads and discards (the peer of the send syscall count).
//! * `hold`: accepts and keeps every connection open, silent (the memory count).
//! * `lines`: reads a request `N\n` and answers with N lines of 98 bytes + CRLF, then
//!   waits for the next request (the receive syscall and timer counts).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use crate::Outcome;
use crate::args::Args;

/// One line of the `lines` peer: 98 printable bytes and CRLF, as the stream data set.
pub(crate) const LINE: &[u8; 100] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz\r\n";

pub(crate) fn serve(args: &Args) -> Outcome {
    let kind = args.text("kind")?.to_owned();
    let port: u16 = args.get("port")?;
    let handler: fn(TcpStream) = match kind.as_str() {
        "echo" => echo,
        "echo-slow" => echo_slow,
        "sink" => sink,
        "lines" => lines,
        "hold" => |_| {},
        other => {
            return Err(format!(
                "--kind: echo, echo-slow, sink, hold or lines, not {other:?}"
            ));
        }
    };
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("bind 127.0.0.1:{port}: {e}"))?;
    eprintln!("cosocket-bench {kind} peer on 127.0.0.1:{port}");
    let mut held = Vec::new();
    loop {
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            // Out of descriptors and the like: the measurement that caused it reports it.
            Err(e) => return Err(format!("accept: {e}")),
        };
        if kind == "hold" {
            held.push(stream);
        } else {
            std::thread::spawn(move || handler(stream));
        }
    }
}

fn echo(stream: TcpStream) {
    echo_after(stream, None);
}

fn echo_slow(stream: TcpStream) {
    echo_after(stream, Some(std::time::Duration::from_millis(1)));
}

fn echo_after(mut stream: TcpStream, delay: Option<std::time::Duration>) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0; 65536];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if let Some(delay) = delay {
                    std::thread::sleep(delay);
                }
                if stream.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
}

fn sink(mut stream: TcpStream) {
    let mut buf = vec![0; 65536];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

fn lines(stream: TcpStream) {
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut requests = BufReader::new(stream);
    let mut request = String::new();
    loop {
        request.clear();
        match requests.read_line(&mut request) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let Ok(n) = request.trim().parse::<usize>() else {
            return;
        };
        let batch: Vec<u8> = LINE.repeat(n);
        if out.write_all(&batch).is_err() {
            return;
        }
    }
}
