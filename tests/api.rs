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

#[test]
fn the_readme_wire_example_holds() {
    use devfault_bravia::wire::{self as bravia, ResponseBody};
    use devfault_thinq::wire as thinq;

    let reply = bravia::decode_response(
        200,
        [("Content-Type", "application/json")],
        br#"{"error":[7,"not power-on"],"id":1}"#,
    );
    let entry = reply.entry().unwrap();
    assert_eq!(entry.retry.as_str(), "after_state_change");
    assert!(matches!(reply.body, ResponseBody::Error(_)) && reply.is_conforming());

    let reply = thinq::decode_response(
        416,
        [("content-type", "application/json")],
        br#"{"messageId":"fNvdZ1brTn-wWKUlWGoSVw","timestamp":"2024-09-01T06:23:20.866279","error":{"message":"Not connected device","code":"1222"}}"#,
        Some("fNvdZ1brTn-wWKUlWGoSVw"),
    );
    assert_eq!(reply.entry().unwrap().class.as_str(), "device_unreachable");

    let (status, body) =
        bravia::encode_error(devfault_bravia::Code::VOLUME_OUT_OF_RANGE.entry(), Some(7));
    assert_eq!(
        (status.as_u16(), body.as_slice()),
        (200, br#"{"error":[40801,"Volume Out of Range"],"id":7}"#.as_slice())
    );
}
