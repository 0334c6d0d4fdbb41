//! cosocket-redis against a real `redis-server` (started per case on a free port, stopped
//! by PID), on tokio current-thread, tokio multi-thread and smol.

mod cases;

cosocket_conformance::every_harness_tests!(cases;
    commands_and_typed_helpers
    large_and_binary_values
    server_errors_are_values_and_keep_the_connection
    pipeline_with_a_failing_command_in_the_middle
    pipeline_and_transaction_match_lua_resty_redis
    transactions
    watch_aborts_a_transaction
    publish_subscribe
    subscribed_connection_refuses_keepalive
    auth_and_select_on_connect
    resp3_types_and_pushes
    unix_socket
    tls_through_the_one_call_connect
    blpop_with_its_own_timeout
    timeout_closes_and_never_leaves_a_stale_reply
    cancelled_request_makes_the_connection_unusable
    random_cancellation_never_mismatches_replies
    reply_limits_and_bad_input
    malformed_and_truncated_replies_close
    pool_reuses_one_connection
    multiplexed_connection_shared_by_many_tasks
    multiplexed_random_cancellation_never_mismatches
    multiplexed_failure_fails_every_caller
);
