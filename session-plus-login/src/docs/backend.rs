// The backend of the documentation's examples (included by each, hidden, as a module): one
// user, ferris, whose password is "hunter42". Any axum-login backend works as it is.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    password_hash: String,
}

impl session_plus_login::AuthUser for User {
    type Id = String;

    fn id(&self) -> String {
        self.name.clone()
    }

    fn session_auth_hash(&self) -> &[u8] {
        self.password_hash.as_bytes()
    }
}

#[derive(Debug, Clone)]
pub struct Backend;

impl session_plus_login::AuthnBackend for Backend {
    type User = User;
    type Credentials = (String, String);
    type Error = std::convert::Infallible;

    async fn authenticate(&self, (name, password): (String, String)) -> Result<Option<User>, Self::Error> {
        if password != "hunter42" {
            return Ok(None);
        }
        self.get_user(&name).await
    }

    async fn get_user(&self, name: &String) -> Result<Option<User>, Self::Error> {
        Ok((name == "ferris").then(|| User { name: name.clone(), password_hash: "not a real hash".to_owned() }))
    }
}
