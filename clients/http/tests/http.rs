//! cosocket-http against a real nginx (plain and TLS, started per case on free ports,
//! stopped by PID) and a few hand-written broken servers, on tokio current-thread, tokio
//! multi-thread and smol.

mod cases;

cosocket_conformance::every_harness_tests!(cases;
    content_length_body_and_keepalive
    large_body_streamed_in_pieces
    dropped_chunk_reads_lose_nothing
    chunked_body
    read_until_close_body
    connection_close_is_honoured
    head_statuses_and_errors_as_values
    https_verified_chunked_and_pooled
    bad_input_is_refused_before_sending
    response_limits
    malformed_responses_close
    read_timeout_closes
    stale_pooled_connection_is_retried_once
    random_cancellation_never_mismatches_bodies
);
