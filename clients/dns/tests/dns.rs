//! cosocket-dns against a real `dnsmasq` (started per case on a free port, stopped by PID)
//! and scripted UDP servers, on tokio current-thread, tokio multi-thread and smol.

mod cases;

cosocket_conformance::every_harness_tests!(cases;
    a_records
    aaaa_records
    cname_chain_to_an_a_record
    mx_ns_and_srv_records
    txt_record_with_several_strings
    ptr_and_reverse
    nxdomain_is_a_typed_error
    truncated_reply_is_repeated_over_tcp
    retransmission_and_round_robin
    timeout_after_every_try
    replies_with_another_id_or_question_are_skipped
    only_wrong_ids_time_out
    malformed_replies_are_protocol_errors
    invalid_names_are_refused_before_sending
    bad_options_are_refused
    context_resolves_names_through_the_client
    random_cancellation_never_mixes_answers
);
