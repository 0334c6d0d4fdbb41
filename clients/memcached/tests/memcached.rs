//! cosocket-memcached against a real `memcached` (started per case on a free port, stopped
//! by PID), on tokio current-thread, tokio multi-thread and smol.

mod cases;

cosocket_conformance::every_harness_tests!(cases;
    get_and_set_with_flags
    multi_get_leaves_out_missing_keys
    add_replace_append_prepend
    cas_outcomes
    delete_incr_decr
    touch_and_expiry
    flush_all_version_and_stats
    pipeline_with_failing_commands_in_the_middle
    results_match_lua_resty_memcached
    keys_and_values_refused_before_sending
    oversized_value_in_a_reply_closes
    pool_reuses_one_connection
    malformed_replies_close
    timeout_closes_and_never_leaves_a_stale_reply
    read_timeout_on_a_silent_server
    unix_socket_server
    cancelled_request_makes_the_connection_unusable
    random_cancellation_never_mismatches_replies
);
