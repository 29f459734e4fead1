//! The Rust example of the README, verbatim.

use devfault_bravia::Code;
use devfault_core::{Class, Retry};

#[test]
fn the_readme_example_holds() {
    let entry = Code::VOLUME_OUT_OF_RANGE.entry();
    assert_eq!(entry.reason, "Volume Out of Range");
    assert_eq!((entry.class, entry.retry), (Class::MalformedRequest, Retry::Never));

    let thinq = devfault_thinq::registry();
    assert_eq!(thinq.space().format(0), "0000");
    let hits: Vec<u32> = thinq.find_text("invalid token").iter().map(|e| e.code).collect();
    assert_eq!(hits, [1103, 1218]);
    let state = devfault_thinq::Code::COMMAND_NOT_SUPPORTED_IN_STATE.entry();
    assert_eq!(state.render("HEAT").unwrap(), "Command not supported in HEAT");
}
