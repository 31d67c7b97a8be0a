//! The configuration parser: `Config::from_toml_str` and `Config::from_json_str` never panic on
//! any text (errors are fine); a parsed configuration validates without panicking either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_plus::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for parsed in [Config::from_toml_str(text), Config::from_json_str(text)] {
        if let Ok(config) = parsed {
            let _ = config.validate();
            let _ = format!("{config:?}");
        } else if let Err(e) = parsed {
            let _ = e.to_string();
        }
    }
});
