//! The integration tests of flask-wire, in one binary: the vectors made by the Python packages
//! (`tests/data/flask-vectors.json`), and tamper, zip-bomb and property tests. They use only the
//! public API.

mod robustness;
mod vectors;
