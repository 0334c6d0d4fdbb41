//! The cases of the suite, each an `async fn` over a [`Case`]. Names start with the spec
//! §11 case number they reproduce (`s01_…`), or `x_` for cases beyond §11.
//!
//! §11 cases left out, because a typed Rust API cannot express them: 17, 18, 22 (apart
//! from `receive_any(0)`), 36 (apart from the empty pattern), 53, 61's and 62's argument
//! types and ranges, 63's missing port, 68's non-numeric and negative timeouts (all Lua
//! argument coercions or hard errors: `u16`, `usize`, `NonZeroUsize`, `Option<Duration>`
//! make them unrepresentable), 58 and 66 (a second operation while one is pending on the
//! same object: `&mut self` rules it out; `x_split_*` cover full duplex), 84 and 85
//! (`set_keepalive` with a zero or non-numeric size: `NonZeroUsize` rules them out), 89's
//! port 65536, 90's non-number size and 92 (`u16`, `usize`, `&mut self`), 95–98 (TLS and
//! request sockets).

use std::path::Path;

use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::pin;
use std::task::Context as TaskContext;

use cosocket_core::{
    Bytes, ConnectOptions, Cosockets, Result, StreamRead, StreamSock, TcpSock, UnixSock, Until,
};

use crate::Case;
use crate::harness::Harness;
use crate::peer::{Peer, PeerReport, PeerSpec, Target};
use crate::render::expect;

mod backlog;
mod borrowed;
mod cancel_points;
mod connect;
mod duplex;
mod fault_matrix;
mod idle_watch;
mod interop;
#[cfg(feature = "tokio-io")]
mod interop_tokio;
mod limits;
mod pool;
mod pool_stress;
mod random_driver;
mod reads;
mod requests;
mod send;
mod surface;
mod timeouts;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "tls")]
mod tls_servers;
mod udp;
mod until;

pub use backlog::*;
pub use borrowed::*;
pub use cancel_points::*;
pub use connect::*;
pub use duplex::*;
pub use fault_matrix::*;
pub use idle_watch::*;
pub use interop::*;
#[cfg(feature = "tokio-io")]
pub use interop_tokio::*;
pub use limits::*;
pub use pool::*;
pub use pool_stress::*;
pub use random_driver::*;
pub use reads::*;
pub use requests::*;
pub use send::*;
pub use surface::*;
pub use timeouts::*;
#[cfg(feature = "tls")]
pub use tls::*;
#[cfg(feature = "tls")]
pub use tls_servers::*;
pub use udp::*;
pub use until::*;

/// The stream socket type of a harness.
pub(crate) type StreamOf<H> = <<H as Harness>::Cx as Cosockets>::Stream;

/// Starts the scripted peer.
pub(crate) fn start(spec: PeerSpec) -> Peer {
    Peer::start(&spec).expect("start the scripted peer")
}

/// Connects `s` to the peer's target `name` (FORMAT.md §3.1): TCP targets as host and
/// port, Unix ones by path.
pub(crate) async fn connect_target<S: TcpSock + UnixSock>(
    s: &mut S,
    peer: &mut Peer,
    name: &str,
    options: &ConnectOptions,
) -> Result<()> {
    match peer.target(name).expect("peer target") {
        Target::Tcp { host, port } => s.connect(&host, port, options).await,
        Target::Unix(path) => {
            let path = path.strip_prefix("unix:").expect("unix: target");
            s.connect_unix(Path::new(path), options).await
        }
    }
}

/// A socket of a fresh default context, connected to the peer.
pub(crate) async fn connected<H: Harness>(t: &Case<H>, peer: &mut Peer) -> StreamOf<H> {
    let mut s = t.stream();
    connect_target(&mut s, peer, "peer", &ConnectOptions::new())
        .await
        .expect("connect to the peer");
    s
}

/// A socket of a fresh context with `buffer_size` = `segment`, connected to the peer.
pub(crate) async fn connected_with_buffer<H: Harness>(
    t: &Case<H>,
    peer: &mut Peer,
    segment: usize,
) -> StreamOf<H> {
    let size = NonZeroUsize::new(segment).expect("a non-zero buffer size");
    let mut s = t.cx_with(|d| d.buffer_size = size).stream();
    connect_target(&mut s, peer, "peer", &ConnectOptions::new())
        .await
        .expect("connect to the peer");
    s
}

/// OpenResty's `it(size)` on the two Rust methods: `size == 0` is `receive_until` (or the
/// pending end of a part a chunk call completed: `nil, nil, nil`, as OpenResty's iterator
/// returns it to a call of any size), `size > 0` is `receive_until_chunk`.
pub async fn it<S: StreamRead>(s: &mut S, until: &mut Until, size: usize) -> Result<Option<Bytes>> {
    match NonZeroUsize::new(size) {
        Some(size) => s.receive_until_chunk(until, size).await,
        None if until.at_end_of_part() => s.receive_until_chunk(until, NonZeroUsize::MIN).await,
        None => s.receive_until(until).await.map(Some),
    }
}

/// Polls `fut` once with a waker that does nothing; whether it is still pending.
pub(crate) fn poll_once<F: Future>(fut: F) -> bool {
    let mut fut = pin!(fut);
    let waker = futures::task::noop_waker();
    fut.as_mut()
        .poll(&mut TaskContext::from_waker(&waker))
        .is_pending()
}

/// Lets the peer finish (FORMAT §3.5) and returns its report.
pub(crate) fn finish(peer: Peer) -> PeerReport {
    peer.finish(Peer::DEFAULT_GRACE)
}

/// Waits (at most 5 s) until `cond` holds; fails with `what` otherwise.
pub(crate) async fn wait_until<H: Harness>(
    t: &Case<H>,
    what: &str,
    mut cond: impl FnMut() -> bool,
) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        t.sleep_ms(5).await;
    }
    panic!("timed out waiting until {what}");
}

/// One call of a scripted case, and what it must return (spec notation).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Call {
    Line,
    All,
    Exact(usize),
    Any(usize),
    /// `it(size)` of the iterator at this index.
    It(usize, usize),
    /// `settimeout(ms)`; no result.
    Timeout(u64),
    /// A client-side sleep; no result.
    Sleep(u64),
    Close,
    KeepAlive,
    Send(&'static str),
}

/// Runs `calls` on `s` in order, checking each result.
pub(crate) async fn script<H: Harness, S: StreamSock>(
    t: &Case<H>,
    s: &mut S,
    untils: &mut [Until],
    calls: &[(Call, &str)],
) {
    for (i, &(call, expected)) in calls.iter().enumerate() {
        let name = format!("call {i} {call:?}");
        match call {
            Call::Line => expect(&name, &s.receive_line().await, expected),
            Call::All => expect(&name, &s.receive_all().await, expected),
            Call::Exact(n) => expect(&name, &s.receive_exact(n).await, expected),
            Call::Any(n) => expect(&name, &s.receive_any(n).await, expected),
            Call::It(k, size) => {
                expect(&name, &it(s, &mut untils[k], size).await, expected);
            }
            Call::Timeout(ms) => s.set_timeout(Some(std::time::Duration::from_millis(ms))),
            Call::Sleep(ms) => t.sleep_ms(ms).await,
            Call::Close => expect(&name, &s.close(), expected),
            Call::KeepAlive => expect(&name, &s.set_keepalive(None, None), expected),
            Call::Send(data) => expect(&name, &s.send(data.as_bytes()).await, expected),
        }
    }
}

/// The cases of tokio's I/O traits, for
/// [`conformance_tokio_io_tests!`](crate::conformance_tokio_io_tests).
#[cfg(feature = "tokio-io")]
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tokio_io_cases {
    ($m:path, $harness:expr) => {
        $m!($harness;
            x_tokio_framed_lines
            x_tokio_copy
            x_tokio_copy_bidirectional
            x_tokio_borrowed_halves
        );
    };
}

/// The TLS cases against the scripted peer, for
/// [`conformance_tls_tests!`](crate::conformance_tls_tests).
#[cfg(feature = "tls")]
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tls_cases {
    ($m:path, $harness:expr) => {
        $m!($harness;
            x_tls_echo
            x_tls_protocols_directive
            x_tls_sni
            x_tls_verify_self_signed
            x_tls_verify_wrong_host
            x_tls_verify_unknown_ca
            x_tls_verify_expired
            x_tls_custom_trust
            x_tls_mutual
            x_tls_resumption
            x_tls_session_cache
            x_tls_handshake_timeout
            x_tls_plain_peer
            x_tls_closed_and_bad_name
            x_tls_pool_reuse
            x_tls_one_call_pool_key
            x_tls_readers_over_records
            x_tls_truncated_end
            x_tls_cancel_receive
            x_tls_halves
            x_tls_bulk
            x_tls_alpn
            x_tls_garbage_after_handshake
            x_tls_io_traits
            x_cancel_points_tls
        );
    };
}

/// The cases against real TLS servers, for
/// [`conformance_tls_server_tests!`](crate::conformance_tls_server_tests).
#[cfg(feature = "tls")]
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tls_server_cases {
    ($m:path, $harness:expr) => {
        $m!($harness;
            x_tls_openssl_tls12_verified_get
            x_tls_openssl_tls13_verified_get
            x_tls_openssl_version_mismatch
            x_tls_openssl_verify_failures
            x_tls_openssl_mutual_tls
            x_tls_openssl_resumption_tls12
            x_tls_openssl_resumption_tls13
            x_tls_nginx_keepalive_and_pool
            x_tls_nginx_large_and_chunked_bodies
            x_tls_nginx_pool_key_separates_tls_and_plain
            x_tls_nginx_pooled_with_tickets_unread
        );
    };
}

/// Every case, for [`conformance_tests!`](crate::conformance_tests).
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($m:path, $harness:expr) => {
        $m!($harness;
            s01_line_drops_every_cr
            s02_line_eof_partial_then_closed
            s03_eof_closes_the_read_half_only
            s04_crs_across_segments
            s05_line_timeout_partial_then_rest
            s06_long_line_one_byte_buffer
            s07_http_lines_then_eof_partial
            s08_http_lines_one_byte_buffer
            s09_all_until_eof_then_empty
            s10_all_timeout_partial
            s11_all_immediate_fin
            s12_all_then_keepalive_and_reads
            s13_line_then_all_verbatim
            s14_exact_and_zero
            s15_exact_timeout_partial_then_rest
            s16_idle_read_timeout_restarts_on_progress
            s19_exact_pieces_then_eof_partial
            s20_any_returns_buffered_bytes_first
            s21_any_after_exact_and_timeout
            s22_any_zero_is_bad_max_argument
            s23_any_bounded_by_buffer_size
            x_any_bounded_after_dropped_line
            s24_any_fin
            s25_any_body_after_headers
            s26_until_size_chunks
            s27_until_overlap_aab
            s28_until_overlap_dashes
            s29_until_eof_discards_withheld
            s30_until_no_pattern_size_chunks
            s31_until_unlimited_parts
            s32_until_size_3_parts
            s33_until_chunk_boundary_before_pattern
            s34_until_timeout_keeps_withheld
            s35_until_size_then_unlimited
            s36_until_empty_pattern
            s37_until_inclusive_size_4
            s38_until_size_4_then_eof
            s39_until_kmp_abcabd
            s40_until_aa
            s41_until_aaa
            s42_until_aaaaad_any_buffer
            s43_until_abcabdabcabe
            s44_until_inclusive_abcabd
            s45_until_size_2_dashes
            s46_until_mixed_with_receive
            s47_until_mixed_size_2
            s48_two_untils_interleaved
            s49_dropped_until_gives_bytes_back
            s50_until_inclusive_mixed
            s51_until_on_closed_socket
            s52_send_fragment_lists
            s54_send_after_rst
            s55_rst_closes_read_then_broken_pipe
            s56_send_after_peer_half_close
            s57_send_timeout_closes_write_half
            x_send_timeout_fires_on_time
            s59_refused_then_closed
            s60_connect_timeout_full_accept_queue
            s61_host_texts
            s63_parse_failure_drops_the_old_connection
            s64_reconnect_closes_the_old_connection
            s65_never_connected_and_closed
            s67_unix_errors
            s69_zero_timeout_means_the_directive
            s70_silent_peer_timeouts
            s71_keepalive_unread_data
            s72_keepalive_dubious_state
            s73_keepalive_after_fin
            s74_reused_times_count
            s75_pool_is_lifo
            s76_pool_evicts_least_recent
            s77_pool_idle_timeout
            s78_pool_drops_connection_peer_closed
            s79_custom_pool_name
            s80_pool_destroyed_at_zero
            s81_backlog_queue_and_limit
            s81_backlog_zero
            s82_queued_connect_times_out
            s83_failed_connect_frees_place
            s86_unix_pool_keys
            x_pool_size_fixed_while_pool_exists
            x_uncounted_connection_counted_when_pooled
            x_dropped_socket_frees_place_for_waiter
            x_owned_halves_hold_place
            x_cancelled_queued_connect_leaves_queue
            x_handoff_to_cancelled_waiter_goes_on
            x_connect_dropped_while_connecting
            x_context_dropped_with_connections_out
            x_idle_watch_closes_on_peer_event
            x_idle_deadline_closes_connection
            x_idle_far_timeouts_keep_the_watcher_alive
            x_idle_watch_touches_only_the_closed_one
            x_pool_stress_random_cancellation
            x_random_driver
            s87_udp_closed_before_set_peer_name
            s88_udp_icmp_refusal_then_timeout
            s89_udp_port_zero
            s90_udp_echo_and_truncation
            s91_udp_message_too_long
            s93_unix_datagram_round_trip
            s94_udp_bind
            x_udp_names
            x_megabyte_line_one_byte_segments
            x_pattern_split_across_segments
            x_cancel_every_receive_kind
            x_cancel_receive_until
            x_send_dropped_after_partial_write_closes_write_half
            x_split_reads_while_writing
            x_owned_halves_in_tasks_and_reunite
            x_half_timeouts_survive_reconnect
            x_every_method_in_a_spawned_task
            x_options_read_back
            x_nodelay_set_on_first_send
            x_bind_local_address
            x_shutdown_half_close
            x_resolver_names
            x_every_address_tried_in_order
            x_fd_and_addresses
            x_options_persist_across_pool_reuse
            x_pooled_connection_keeps_its_local_address
            x_connect_unix_path_texts
            x_shutdown_owned_write_half
            x_resolver_error_texts
            x_every_address_within_one_connect_timeout
            x_logs_spec_lines
            x_timeouts_never_and_max
            x_read_timeouts_across_reads
            x_borrowed_reads_interleave
            x_borrowed_reads_partials_cancel_and_keepalive
            x_borrowed_read_then_keepalive
            x_read_limits
            x_read_limit_per_socket
            x_buffer_size_range
            x_io_reads_interleave_byte_exact
            x_io_futures_copy_both_ways
            x_io_traits_follow_the_timeouts
            x_dropped_write_half_sends_fin
            x_io_borrowed_halves_copy
            x_request_in_flight_never_pooled
            x_cancelled_request_never_pooled
            x_fault_matrix_receives
            x_fault_matrix_connect_send
            x_fault_matrix_pool
            x_cancel_points_receives
            x_cancel_points_send
            x_cancel_points_connect
        );
    };
}
