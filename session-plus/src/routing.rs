//! Field routing: which sessions own which fields, computed once at start-up.
//!
//! The rules, per session's `session_fields`:
//!
//! | selector | owns field `f` when |
//! |---|---|
//! | `[]` | always |
//! | `["a", "b"]` | `f` is listed |
//! | `{include = [..], exclude = [..]}` | `f` is included (or `include` is empty) and not excluded |
//! | `"auto"` | no *other* session lists `f` in its `include` list |
//!
//! A field owned by several sessions is mirrored: written to all of them, read from the first (in
//! configuration order) that holds it. A field no session owns cannot be written.
//!
//! ```
//! use session_plus::{Config, FieldSelector, SessionConfig, SessionType};
//! use session_plus::routing::Routing;
//!
//! let routing = Routing::new(&[
//!     SessionConfig::new("csrf").with_fields(["csrf_token"]),
//!     SessionConfig::new("session").with_type(SessionType::Memory).with_fields(["user_id"]),
//!     SessionConfig::new("data").with_field_selector(FieldSelector::Auto),
//! ]);
//! assert_eq!(routing.owner_names("csrf_token").collect::<Vec<_>>(), ["csrf"]);
//! assert_eq!(routing.owner_names("theme").collect::<Vec<_>>(), ["data"]);
//! ```

use std::collections::{BTreeSet, HashMap};

use crate::config::{FieldSelector, SessionConfig};

/// The owners of every field, by session index in configuration order.
#[derive(Debug, Clone)]
pub struct Routing {
    names: Vec<String>,
    /// Owners of every field some session names (in an include or exclude list).
    named: HashMap<String, Box<[usize]>, foldhash::fast::RandomState>,
    /// Owners of every other field.
    unnamed: Box<[usize]>,
}

impl Routing {
    /// Computes the owners of every field for these sessions.
    ///
    /// ```
    /// use session_plus::{routing::Routing, SessionConfig};
    /// let routing = Routing::new(&[SessionConfig::new("all")]);
    /// assert_eq!(routing.owners("anything"), &[0]);
    /// ```
    pub fn new(sessions: &[SessionConfig]) -> Self {
        let selectors: Vec<&FieldSelector> = sessions.iter().map(SessionConfig::field_selector).collect();
        let mut mentioned = BTreeSet::new();
        for selector in &selectors {
            match selector {
                FieldSelector::List(fields) => mentioned.extend(fields.iter().cloned()),
                FieldSelector::IncludeExclude { include, exclude } => {
                    mentioned.extend(include.iter().cloned());
                    mentioned.extend(exclude.iter().cloned());
                }
                FieldSelector::All | FieldSelector::Auto => {}
            }
        }
        let owners_of =
            |field: &str| -> Box<[usize]> { (0..selectors.len()).filter(|&i| owns(&selectors, i, field)).collect() };
        // A field no list names is owned alike by every `[]`, exclude-only and "auto" session, so
        // one probe name that no list holds stands for all of them.
        let unnamed = (0..selectors.len())
            .filter(|&i| match selectors[i] {
                FieldSelector::All | FieldSelector::Auto => true,
                FieldSelector::IncludeExclude { include, .. } => include.is_empty(),
                FieldSelector::List(_) => false,
            })
            .collect();
        let named = mentioned.iter().map(|field| (field.clone(), owners_of(field))).collect();
        Self { names: sessions.iter().map(|s| s.cookie_name().to_owned()).collect(), named, unnamed }
    }

    /// The indexes of the sessions that own `field`, in configuration order; empty when none does.
    ///
    /// ```
    /// use session_plus::{routing::Routing, SessionConfig};
    /// let routing = Routing::new(&[SessionConfig::new("csrf").with_fields(["csrf_token"])]);
    /// assert!(routing.owners("user_id").is_empty());
    /// ```
    pub fn owners(&self, field: &str) -> &[usize] {
        self.named.get(field).unwrap_or(&self.unnamed)
    }

    /// The cookie names of the sessions that own `field`.
    ///
    /// ```
    /// use session_plus::{routing::Routing, SessionConfig};
    /// let routing = Routing::new(&[SessionConfig::new("a").with_fields(["x"]), SessionConfig::new("b")]);
    /// assert_eq!(routing.owner_names("x").collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn owner_names(&self, field: &str) -> impl Iterator<Item = &str> + use<'_> {
        self.owners(field).iter().map(|&i| self.names[i].as_str())
    }

    /// Whether session `index` owns `field`.
    pub fn owns(&self, index: usize, field: &str) -> bool {
        self.owners(field).contains(&index)
    }

    /// The fields named in any list, with their owners: the static part of the routing table.
    ///
    /// ```
    /// use session_plus::{routing::Routing, SessionConfig};
    /// let routing = Routing::new(&[SessionConfig::new("csrf").with_fields(["csrf_token"])]);
    /// assert_eq!(routing.named_fields().count(), 1);
    /// ```
    pub fn named_fields(&self) -> impl Iterator<Item = (&str, impl Iterator<Item = &str> + '_)> + '_ {
        let mut fields: Vec<&String> = self.named.keys().collect();
        fields.sort();
        fields.into_iter().map(move |f| (f.as_str(), self.owner_names(f)))
    }

    /// The cookie names of the sessions that own every field no list names.
    pub fn default_owner_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.unnamed.iter().map(|&i| self.names[i].as_str())
    }
}

/// The routing rule itself, evaluated for one session and one field.
fn owns(selectors: &[&FieldSelector], index: usize, field: &str) -> bool {
    match selectors[index] {
        FieldSelector::All => true,
        FieldSelector::List(fields) => fields.contains(field),
        FieldSelector::IncludeExclude { include, exclude } => {
            (include.is_empty() || include.contains(field)) && !exclude.contains(field)
        }
        FieldSelector::Auto => !selectors
            .iter()
            .enumerate()
            .any(|(i, s)| i != index && s.included().is_some_and(|inc| inc.contains(field))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The plain reference model: DESIGN.md's rules, evaluated without any precomputation.
    fn reference(sessions: &[SessionConfig], field: &str) -> Vec<usize> {
        let mut owners = Vec::new();
        for (i, s) in sessions.iter().enumerate() {
            let owned = match s.field_selector() {
                FieldSelector::All => true,
                FieldSelector::List(l) => l.iter().any(|x| x == field),
                FieldSelector::IncludeExclude { include, exclude } => {
                    (include.is_empty() || include.iter().any(|x| x == field)) && !exclude.iter().any(|x| x == field)
                }
                FieldSelector::Auto => sessions.iter().enumerate().all(|(j, other)| {
                    j == i
                        || match other.field_selector() {
                            FieldSelector::List(l) => !l.iter().any(|x| x == field),
                            FieldSelector::IncludeExclude { include, .. } => !include.iter().any(|x| x == field),
                            _ => true,
                        }
                }),
            };
            if owned {
                owners.push(i);
            }
        }
        owners
    }

    const FIELDS: &[&str] = &["a", "b", "c", "d", "e"];

    fn field_set() -> impl Strategy<Value = BTreeSet<String>> {
        proptest::sample::subsequence(FIELDS, 0..=3).prop_map(|v| v.into_iter().map(str::to_owned).collect())
    }

    fn selector() -> impl Strategy<Value = FieldSelector> {
        prop_oneof![
            Just(FieldSelector::All),
            Just(FieldSelector::Auto),
            field_set().prop_map(FieldSelector::List),
            (field_set(), field_set()).prop_map(|(include, exclude)| {
                FieldSelector::IncludeExclude { exclude: exclude.difference(&include).cloned().collect(), include }
            }),
        ]
    }

    proptest! {
        #[test]
        fn routing_matches_reference(selectors in proptest::collection::vec(selector(), 1..5)) {
            let sessions: Vec<SessionConfig> = selectors.into_iter().enumerate()
                .map(|(i, sel)| SessionConfig::new(format!("s{i}")).with_field_selector(sel))
                .collect();
            let routing = Routing::new(&sessions);
            // "z" and "unlisted" are named by no list; the others may be.
            for field in FIELDS.iter().chain(&["z", "unlisted"]) {
                prop_assert_eq!(routing.owners(field).to_vec(), reference(&sessions, field), "field {}", field);
            }
        }
    }

    #[test]
    fn seed_example() {
        let sessions = [
            SessionConfig::new("csrf").with_fields(["csrf_token"]),
            SessionConfig::new("session").with_fields(["user_id", "user_data"]),
            SessionConfig::new("data").with_field_selector(FieldSelector::Auto),
        ];
        let routing = Routing::new(&sessions);
        assert_eq!(routing.owners("csrf_token"), &[0]);
        assert_eq!(routing.owners("user_data"), &[1]);
        assert_eq!(routing.owners("theme"), &[2]);
    }

    #[test]
    fn mirrored_and_unowned() {
        let sessions = [
            SessionConfig::new("a").with_fields(["x", "y"]),
            SessionConfig::new("b").with_fields(["y"]),
            SessionConfig::new("c").with_field_selector(FieldSelector::IncludeExclude {
                include: BTreeSet::new(),
                exclude: ["x".to_owned()].into(),
            }),
        ];
        let routing = Routing::new(&sessions);
        assert_eq!(routing.owners("y"), &[0, 1, 2]);
        assert_eq!(routing.owners("x"), &[0]);
        assert_eq!(routing.owners("other"), &[2]);
        let only_lists = [SessionConfig::new("a").with_fields(["x"])];
        assert!(Routing::new(&only_lists).owners("other").is_empty());
    }
}
