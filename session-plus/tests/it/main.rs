//! The integration tests of session-plus, in one binary so that axum, sqlx and the store clients
//! are linked once. Every test talks to real parts: servers over TCP, a cookie-keeping HTTP
//! client, the real Python packages in venvs.

#[macro_use]
mod common;

mod e2e;
mod errors;
mod firestore_store;
mod flask_firestore_live;
mod flask_formats;
mod flask_live;
mod flask_live_mongo;
mod frameworks;
mod memcached_store;
mod mongodb_store;
mod no_framework;
mod observe;
mod redis_store;
mod round_trips;
mod sql_stores;
mod stores;
mod tls;
