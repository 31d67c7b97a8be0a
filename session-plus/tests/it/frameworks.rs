//! Issue 13, item 2: the end-to-end cases of the login flow, strict ids, regeneration, logout, key
//! rotation and store faults, plus lazy loads, per-field saves, `Vary` and atomic updates, listed
//! once and run on each framework: `frameworks::CASE::axum` and `frameworks::CASE::actix`, each
//! over TCP against the same routes. The cases are those of the conformance suite (on the memory
//! store) and of `e2e.rs`, unchanged but for the framework they are given.

use std::sync::Arc;

use session_plus::store::{MemoryStore, SessionStore};

use crate::common::suite;
use crate::e2e;

fn memory() -> Arc<dyn SessionStore> {
    Arc::new(MemoryStore::new())
}

/// `CASE => |framework| future` becomes `mod CASE { axum, actix }`, two tests.
macro_rules! on_each_framework {
    ($($case:ident => $run:expr),+ $(,)?) => {
        $(
            mod $case {
                use super::*;
                use crate::common::Framework;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn axum() {
                    ($run)(Framework::Axum).await
                }

                #[cfg(feature = "actix")]
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn actix() {
                    ($run)(Framework::Actix).await
                }
            }
        )+
    };
}

on_each_framework! {
    // The login flow: a login regenerates and ties the session to its user; ending the user's
    // sessions ends them all, and no one else's.
    login_and_ending_a_users_sessions => |on| suite::ending_a_users_sessions(memory(), on),
    // Unknown ids are never adopted; malformed ones never reach the store.
    strict_ids => |on| suite::strict_ids(memory(), on),
    malformed_ids_never_reach_the_store => |on| suite::malformed_ids_never_reach_the_store(memory(), on),
    regeneration => |on| suite::regeneration(memory(), on),
    regenerate_never_resurrects_a_logout => |on| suite::regenerate_never_resurrects_a_logout(memory(), on),
    logout => |on| suite::clear_logs_out_everywhere(memory(), on),
    key_rotation => e2e::key_rotation_accepts_old_keys_and_reissues,
    store_faults => |on| suite::faults_give_errors_and_recover(memory(), on),
    a_failing_store_keeps_the_committed_cookies =>
        e2e::a_failing_store_does_not_drop_the_cookies_of_the_sessions_that_committed,
    // What the adapters must share with the tower layer: lazy loads, per-field saves, `Vary`.
    lazy_loading => |on| suite::lazy_loading_and_round_trips(memory(), on),
    concurrent_different_fields_survive => |on| suite::concurrent_different_fields_survive(memory(), on),
    empty_visitors_cost_nothing => |on| suite::empty_visitors_cost_nothing(memory(), on),
    // Atomic updates of one field: 32 concurrent increments over four app instances, none lost.
    concurrent_increments_lose_nothing => |on| suite::concurrent_increments_lose_nothing(memory(), on),
}
