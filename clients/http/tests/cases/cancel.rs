//! Random cancellation: every body that completes is its own request's.

use cosocket_conformance::servers::Nginx;
use cosocket_conformance::{Case, Harness};

use cosocket_conformance::cancel::at_random;

use super::{client, url};

pub(crate) async fn random_cancellation_never_mismatches_bodies<H: Harness>(t: Case<H>) {
    let nginx = Nginx::start();
    let http = client(&t);
    let close_small = format!("{}{}", Nginx::CLOSE, Nginx::SMALL);
    // The 1 MiB body takes a few ms: half the requests, so many are cut mid-body.
    let paths = [
        Nginx::SMALL,
        Nginx::LARGE,
        Nginx::SSI,
        Nginx::LARGE,
        close_small.as_str(),
        Nginx::LARGE,
        "/missing",
        Nginx::LARGE,
    ];
    let (small, large, page) = (
        Nginx::small_body(),
        Nginx::large_body(),
        Nginx::ssi_body("(none)"),
    );
    let expected = |path: &str| -> Option<&[u8]> {
        Some(match path {
            p if p == Nginx::SMALL || p == close_small => &small,
            p if p == Nginx::LARGE => &large,
            p if p == Nginx::SSI => page.as_bytes(),
            _ => return None,
        })
    };
    let mut rng = fastrand::Rng::with_seed(0x0047_7470);
    let (mut done, mut cancelled, mut mismatched) = (0, 0, 0);
    let requests = 300;
    for _ in 0..requests {
        let path = paths[rng.usize(..paths.len())];
        let fetch = async {
            let response = http.get(&url(&nginx, path)).await.unwrap();
            let status = response.status();
            (status, response.bytes().await.unwrap())
        };
        match at_random(&t, &mut rng, fetch).await {
            None => cancelled += 1,
            Some((status, body)) => match expected(path) {
                Some(want) if status == 200 && body == want => done += 1,
                None if status == 404 => done += 1,
                _ => mismatched += 1,
            },
        }
    }
    eprintln!(
        "http random cancellation: {requests} requests, {cancelled} cancelled, {done} \
         completed, {mismatched} mismatched"
    );
    assert_eq!(mismatched, 0);
    // A floor against a vacuous run; how many are cut depends on the machine's load.
    assert!(cancelled >= 10, "only {cancelled} cancelled");
    assert!(done >= 50, "only {done} completed");
}
