//! A small client for the few Firestore REST (v1) methods the store uses, with its credentials.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::super::{Error, Result};

/// The OAuth scope Firestore's REST API needs.
const SCOPE: &str = "https://www.googleapis.com/auth/datastore";
/// Firestore's production endpoint.
const PRODUCTION: &str = "https://firestore.googleapis.com";
/// How long one request may take, and connecting.
const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection to one Firestore database: an HTTP client, the endpoint, and the credentials.
///
/// Cloning is cheap and shares the connection pool and the token cache.
///
/// ```no_run
/// use session_plus::store::FirestoreClient;
/// # async fn run() -> Result<(), session_plus::store::Error> {
/// // Google's credentials (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud, the metadata server).
/// let client = FirestoreClient::connect("my-project", "(default)").await?;
/// // The emulator: plain HTTP, no credentials.
/// let emulator = FirestoreClient::emulator("127.0.0.1:8085", "my-project", "(default)")?;
/// # let _ = (client, emulator);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FirestoreClient {
    http: reqwest::Client,
    /// `https://firestore.googleapis.com/v1/projects/P/databases/D/documents` (or the emulator's).
    documents_url: String,
    /// `projects/P/databases/D/documents`, the root of document names.
    root: String,
    auth: Auth,
}

#[derive(Clone)]
enum Auth {
    /// The emulator's fixed bearer token.
    Emulator,
    Google(Arc<dyn gcp_auth::TokenProvider>),
}

impl fmt::Debug for FirestoreClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match self.auth {
            Auth::Emulator => "emulator",
            Auth::Google(_) => "google",
        };
        f.debug_struct("FirestoreClient").field("documents_url", &self.documents_url).field("auth", &auth).finish()
    }
}

impl FirestoreClient {
    /// A client for database `database` (`(default)` for the default one) of project `project`:
    /// of the emulator at `FIRESTORE_EMULATOR_HOST` when that variable is set (as Google's own
    /// clients do), otherwise of Firestore itself with Google's application default credentials
    /// (a service-account key file named by `GOOGLE_APPLICATION_CREDENTIALS`, gcloud's user
    /// credentials, or the metadata server), refreshed before they expire.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), session_plus::store::Error> {
    /// let client = session_plus::store::FirestoreClient::connect("my-project", "(default)").await?;
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// No credentials were found.
    pub async fn connect(project: &str, database: &str) -> Result<Self> {
        if let Ok(host) = std::env::var("FIRESTORE_EMULATOR_HOST")
            && !host.is_empty()
        {
            return Self::emulator(&host, project, database);
        }
        let provider = gcp_auth::provider().await.map_err(|e| Error::Backend(Box::new(e)))?;
        Self::build(PRODUCTION.to_owned(), project, database, Auth::Google(provider))
    }

    /// A client for the Firestore emulator at `host` (`127.0.0.1:8085`): plain HTTP, with the
    /// emulator's `Bearer owner` token, which gives every right and bypasses security rules.
    ///
    /// ```
    /// let client = session_plus::store::FirestoreClient::emulator("127.0.0.1:8085", "demo", "(default)")?;
    /// # let _ = client;
    /// # Ok::<(), session_plus::store::Error>(())
    /// ```
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn emulator(host: &str, project: &str, database: &str) -> Result<Self> {
        Self::build(format!("http://{host}"), project, database, Auth::Emulator)
    }

    /// A client with an access-token provider of your own (see the `gcp_auth` crate), for
    /// Firestore itself.
    ///
    /// ```no_run
    /// use session_plus::store::FirestoreClient;
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let provider = gcp_auth::provider().await?;
    /// let client = FirestoreClient::with_token_provider("my-project", "(default)", provider)?;
    /// # let _ = client;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn with_token_provider(
        project: &str,
        database: &str,
        provider: Arc<dyn gcp_auth::TokenProvider>,
    ) -> Result<Self> {
        Self::build(PRODUCTION.to_owned(), project, database, Auth::Google(provider))
    }

    fn build(endpoint: String, project: &str, database: &str, auth: Auth) -> Result<Self> {
        if project.is_empty() || project.contains(['/', '?', '#']) || database.is_empty() || database.contains('/') {
            return Err(Error::Backend(
                format!("invalid Firestore project `{project}` or database `{database}`").into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| Error::Backend(Box::new(e)))?;
        let root = format!("projects/{project}/databases/{database}/documents");
        Ok(Self { http, documents_url: format!("{endpoint}/v1/{root}"), root, auth })
    }

    /// The full name of document `id` of `collection`.
    pub(super) fn document_name(&self, collection: &str, id: &str) -> String {
        format!("{}/{collection}/{id}", self.root)
    }

    /// The root of document names (`projects/P/databases/D/documents`).
    pub(super) fn root(&self) -> &str {
        &self.root
    }

    /// Calls `:{method}` on the database's documents with `body`.
    async fn call(&self, method: &str, body: &Value) -> std::result::Result<Value, CallError> {
        let mut request = self.http.post(format!("{}:{method}", self.documents_url)).json(body);
        request = match &self.auth {
            Auth::Emulator => request.bearer_auth("owner"),
            Auth::Google(provider) => {
                let token =
                    provider.token(&[SCOPE]).await.map_err(|e| CallError::Other(Error::Backend(Box::new(e))))?;
                request.bearer_auth(token.as_str())
            }
        };
        let response = request.send().await.map_err(|e| CallError::Other(Error::Backend(Box::new(e))))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| CallError::Other(Error::Backend(Box::new(e))))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| CallError::Other(Error::Backend(Box::new(e))));
        }
        // Streaming methods (batchGet, runQuery) wrap their error in a list.
        let error = serde_json::from_slice::<ErrorBody>(&bytes)
            .or_else(|_| serde_json::from_slice::<[ErrorBody; 1]>(&bytes).map(|[body]| body))
            .ok()
            .map(|body| body.error);
        Err(CallError::Api(ApiError {
            http_status: status.as_u16(),
            status: error.as_ref().map(|e| e.status.clone()).unwrap_or_default(),
            message: match error {
                Some(error) => error.message,
                None => String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            },
        }))
    }

    /// The document `name` (only the fields of `mask`, when given), with its update time.
    pub(super) async fn get(&self, name: &str, mask: Option<&[&str]>) -> Result<Option<Document>> {
        let mut body = json!({ "documents": [name] });
        if let Some(mask) = mask {
            body["mask"] = json!({ "fieldPaths": mask });
        }
        let answer = self.call("batchGet", &body).await.map_err(CallError::into_error)?;
        let Value::Array(results) = answer else { return Err(bad_answer("batchGet did not answer a list")) };
        // One document asked for: one result, `found` or `missing`.
        match results.iter().find_map(|result| result.get("found")) {
            Some(found) => serde_json::from_value(found.clone()).map(Some).map_err(|e| Error::Backend(Box::new(e))),
            None => Ok(None),
        }
    }

    /// Commits `writes` atomically.
    pub(super) async fn commit(&self, writes: Vec<Value>) -> std::result::Result<(), CallError> {
        self.call("commit", &json!({ "writes": writes })).await.map(drop)
    }

    /// Applies `writes` one by one (not atomically): for each, whether it was applied.
    pub(super) async fn batch_write(&self, writes: Vec<Value>) -> Result<Vec<bool>> {
        let count = writes.len();
        let answer = self.call("batchWrite", &json!({ "writes": writes })).await.map_err(CallError::into_error)?;
        let statuses = answer.get("status").and_then(Value::as_array).cloned().unwrap_or_default();
        if statuses.len() != count {
            return Err(bad_answer("batchWrite answered a status per write"));
        }
        // A status without `code` is OK (0).
        Ok(statuses.iter().map(|status| status.get("code").and_then(Value::as_i64).unwrap_or(0) == 0).collect())
    }

    /// Runs `query` (a `structuredQuery`) on the database's root: the documents found.
    pub(super) async fn run_query(&self, query: Value) -> Result<Vec<Document>> {
        let answer =
            self.call("runQuery", &json!({ "structuredQuery": query })).await.map_err(CallError::into_error)?;
        let Value::Array(results) = answer else { return Err(bad_answer("runQuery did not answer a list")) };
        let mut documents = Vec::new();
        for result in results {
            if let Some(error) = result.get("error") {
                return Err(Error::Backend(format!("Firestore's query failed: {error}").into()));
            }
            if let Some(document) = result.get("document") {
                documents.push(serde_json::from_value(document.clone()).map_err(|e| Error::Backend(Box::new(e)))?);
            }
        }
        Ok(documents)
    }
}

/// A document as the REST API gives it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct Document {
    pub(super) name: String,
    #[serde(default)]
    pub(super) fields: Map<String, Value>,
    #[serde(rename = "updateTime")]
    pub(super) update_time: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
}

/// A failed call: an error Firestore answered, or any other failure.
#[derive(Debug)]
pub(super) enum CallError {
    Api(ApiError),
    Other(Error),
}

impl CallError {
    /// Whether Firestore answered `status` (`ALREADY_EXISTS`, `NOT_FOUND`, …).
    pub(super) fn is(&self, status: &str) -> bool {
        matches!(self, Self::Api(error) if error.status == status)
    }

    pub(super) fn into_error(self) -> Error {
        match self {
            Self::Api(error) => Error::Backend(Box::new(error)),
            Self::Other(error) => error,
        }
    }
}

/// An error answered by Firestore.
#[derive(Debug)]
pub(super) struct ApiError {
    http_status: u16,
    status: String,
    message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Firestore answered {} {}: {}", self.http_status, self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

fn bad_answer(message: &str) -> Error {
    Error::Backend(format!("unexpected answer from Firestore: {message}").into())
}
