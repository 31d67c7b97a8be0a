//! Framework adapters: the only modules that know a web framework. Each uses only the public,
//! framework-neutral API: [`SessionManager::start`](crate::SessionManager::start) and
//! [`Session::finish`](crate::Session::finish).

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
