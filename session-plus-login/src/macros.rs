//! `login_required!`, `permission_required!` and `predicate_required!`: axum-login's route
//! guards, written over this crate's [`AuthSession`](crate::AuthSession).

use http::Uri;

/// A route layer that lets only logged-in users through. Without a `login_url`, others get a
/// 401; with one, a temporary redirect (307) to it, carrying the URI they asked for in the
/// query field `redirect_field` (`next` by default), unless the login URL already has it.
///
/// ```
/// # mod backend { include!("docs/backend.rs"); }
/// # use backend::{Backend, User};
/// use axum::routing::get;
/// use session_plus_login::login_required;
///
/// let app: axum::Router = axum::Router::new()
///     .route("/account", get(|| async { "your account" }))
///     .route_layer(login_required!(Backend, login_url = "/login")) // 307 to /login?next=%2Faccount
///     .route("/api/me", get(|| async { "you" }))
///     .route_layer(login_required!(Backend)) // 401
///     .route("/signin", get(|| async { "sign in" }));
/// # let _ = app;
/// ```
#[macro_export]
macro_rules! login_required {
    ($backend_type:ty) => {{
        async fn is_authenticated(auth_session: $crate::AuthSession<$backend_type>) -> bool {
            auth_session.user().await.is_some()
        }

        $crate::predicate_required!(is_authenticated, $crate::__private::axum::http::StatusCode::UNAUTHORIZED)
    }};

    ($backend_type:ty, login_url = $login_url:expr, redirect_field = $redirect_field:expr) => {{
        async fn is_authenticated(auth_session: $crate::AuthSession<$backend_type>) -> bool {
            auth_session.user().await.is_some()
        }

        $crate::predicate_required!(is_authenticated, login_url = $login_url, redirect_field = $redirect_field)
    }};

    ($backend_type:ty, login_url = $login_url:expr) => {
        $crate::login_required!($backend_type, login_url = $login_url, redirect_field = "next")
    };
}

/// A route layer that lets through only the users who hold every permission listed (the
/// backend's [`AuthzBackend::has_perm`](crate::AuthzBackend::has_perm); a backend error counts
/// as not holding it). Without a `login_url`, others get a 403; with one, a redirect as
/// [`login_required!`] makes.
///
/// ```
/// # mod backend { include!("docs/backend.rs"); }
/// # use backend::{Backend, User};
/// # impl session_plus_login::AuthzBackend for Backend { type Permission = String; }
/// use axum::routing::get;
/// use session_plus_login::permission_required;
///
/// let app: axum::Router = axum::Router::new()
///     .route("/admin", get(|| async { "the admin page" }))
///     .route_layer(permission_required!(Backend, "admin.read", "admin.write"))
///     .route("/reports", get(|| async { "the reports" }))
///     .route_layer(permission_required!(Backend, login_url = "/login", "reports.read"));
/// # let _ = app;
/// ```
#[macro_export]
macro_rules! permission_required {
    ($backend_type:ty, login_url = $login_url:expr, redirect_field = $redirect_field:expr, $($perm:expr),+ $(,)?) => {{
        async fn is_authorized(auth_session: $crate::AuthSession<$backend_type>) -> bool {
            $crate::__has_permissions!(auth_session, $($perm),+)
        }

        $crate::predicate_required!(is_authorized, login_url = $login_url, redirect_field = $redirect_field)
    }};

    ($backend_type:ty, login_url = $login_url:expr, $($perm:expr),+ $(,)?) => {
        $crate::permission_required!($backend_type, login_url = $login_url, redirect_field = "next", $($perm),+)
    };

    ($backend_type:ty, $($perm:expr),+ $(,)?) => {{
        async fn is_authorized(auth_session: $crate::AuthSession<$backend_type>) -> bool {
            $crate::__has_permissions!(auth_session, $($perm),+)
        }

        $crate::predicate_required!(is_authorized, $crate::__private::axum::http::StatusCode::FORBIDDEN)
    }};
}

/// Whether the session's user holds every permission: the body of both forms of
/// [`permission_required!`], written once.
#[doc(hidden)]
#[macro_export]
macro_rules! __has_permissions {
    ($auth_session:ident, $($perm:expr),+) => {{
        use $crate::AuthzBackend as _;
        match $auth_session.user().await {
            Some(ref user) => {
                let mut has_all_permissions = true;
                $(
                    has_all_permissions = has_all_permissions
                        && $auth_session.backend().has_perm(user, $perm.into()).await.unwrap_or(false);
                )+
                has_all_permissions
            }
            None => false,
        }
    }};
}

/// A route layer that lets a request through when `predicate(auth_session)` (an async
/// function of an [`AuthSession`](crate::AuthSession)) is true. Otherwise the answer is
/// `alternative` (anything that is axum's `IntoResponse`), or a redirect to `login_url` as
/// [`login_required!`] makes.
///
/// ```
/// # mod backend { include!("docs/backend.rs"); }
/// # use backend::{Backend, User};
/// use axum::http::StatusCode;
/// use axum::routing::get;
/// use session_plus_login::{predicate_required, AuthSession};
///
/// async fn is_ferris(auth_session: AuthSession<Backend>) -> bool {
///     auth_session.user().await.is_some_and(|user| user.name == "ferris")
/// }
///
/// let app: axum::Router = axum::Router::new()
///     .route("/crab", get(|| async { "🦀" }))
///     .route_layer(predicate_required!(is_ferris, StatusCode::NOT_FOUND));
/// # let _ = app;
/// ```
#[macro_export]
macro_rules! predicate_required {
    ($predicate:expr, $alternative:expr) => {{
        use $crate::__private::axum::middleware::{from_fn, Next};
        use $crate::__private::axum::response::IntoResponse;

        from_fn(|auth_session: $crate::AuthSession<_>, request, next: Next| async move {
            if $predicate(auth_session).await {
                next.run(request).await
            } else {
                $alternative.into_response()
            }
        })
    }};

    ($predicate:expr, login_url = $login_url:expr, redirect_field = $redirect_field:expr) => {{
        use $crate::__private::axum::extract::OriginalUri;
        use $crate::__private::axum::middleware::{from_fn, Next};
        use $crate::__private::axum::response::{IntoResponse, Redirect};

        from_fn(
            |auth_session: $crate::AuthSession<_>, OriginalUri(original_uri): OriginalUri, request, next: Next| async move {
                if $predicate(auth_session).await {
                    next.run(request).await
                } else {
                    match $crate::__private::url_with_redirect_query($login_url, $redirect_field, &original_uri) {
                        Ok(login_url) => Redirect::temporary(&login_url.to_string()).into_response(),
                        Err(error) => {
                            $crate::__private::tracing::error!(%error, "session-plus-login: a login URL that does not parse");
                            $crate::__private::axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
                        }
                    }
                }
            },
        )
    }};
}

/// `login_url` with `redirect_field=<redirect_uri>` first in its query, unless its query has
/// that field already (then it is returned as it is).
///
/// # Errors
/// `login_url` is not a URI, or the query made does not fit in one.
pub fn url_with_redirect_query(login_url: &str, redirect_field: &str, redirect_uri: &Uri) -> Result<Uri, http::Error> {
    let login_url: Uri = login_url.parse()?;
    let query = login_url.query().unwrap_or_default();
    if form_urlencoded::parse(query.as_bytes()).any(|(field, _)| field == redirect_field) {
        return Ok(login_url);
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair(redirect_field, &redirect_uri.to_string())
        .extend_pairs(form_urlencoded::parse(query.as_bytes()))
        .finish();
    let path_and_query = format!("{}?{query}", login_url.path()).parse()?;
    let mut parts = login_url.into_parts();
    parts.path_and_query = Some(path_and_query);
    Ok(Uri::from_parts(parts)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redirect(login_url: &str, field: &str, uri: &str) -> String {
        url_with_redirect_query(login_url, field, &uri.parse().unwrap()).unwrap().to_string()
    }

    // The cases of axum-login's own tests (`middleware.rs`), which this must match.
    #[test]
    fn the_redirect_goes_first_and_the_login_urls_query_is_kept() {
        assert_eq!(redirect("/login", "next", "/"), "/login?next=%2F");
        assert_eq!(redirect("/signin", "next_uri", "/"), "/signin?next_uri=%2F");
        assert_eq!(redirect("/login", "next", "/?foo=bar&foo=baz"), "/login?next=%2F%3Ffoo%3Dbar%26foo%3Dbaz");
        assert_eq!(redirect("/login?foo=bar&foo=baz", "next", "/"), "/login?next=%2F&foo=bar&foo=baz");
        assert_eq!(
            redirect("/login?foo=bar&foo=baz", "next", "/?a=b&a=c"),
            "/login?next=%2F%3Fa%3Db%26a%3Dc&foo=bar&foo=baz"
        );
        assert_eq!(redirect("/login", "next", "/nested/foo"), "/login?next=%2Fnested%2Ffoo");
    }

    #[test]
    fn a_login_url_that_names_the_field_is_kept_as_it_is() {
        assert_eq!(redirect("/login?next_url=%2Fdashboard", "next_url", "/"), "/login?next_url=%2Fdashboard");
        assert_eq!(redirect("/login?next=%2Fdashboard", "next", "/"), "/login?next=%2Fdashboard");
        // A field whose name merely contains the redirect field's is another field.
        assert_eq!(redirect("/login?next_url=%2Fa", "next", "/b"), "/login?next=%2Fb&next_url=%2Fa");
    }

    #[test]
    fn an_absolute_login_url_keeps_its_origin() {
        assert_eq!(redirect("https://auth.example/login", "next", "/a"), "https://auth.example/login?next=%2Fa");
    }

    #[test]
    fn a_login_url_that_is_no_uri_is_an_error() {
        assert!(url_with_redirect_query("/log in", "next", &Uri::from_static("/")).is_err());
    }
}
