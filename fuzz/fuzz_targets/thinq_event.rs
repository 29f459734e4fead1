//! ThinQ MQTT event payloads (`devfault_thinq::event`) on arbitrary bytes: no input may panic,
//! and whatever decodes must come back the same through the encoder, in both forms.
#![no_main]

use devfault_thinq::event::{Event, Form};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = Event::decode(data) else { return };
    for form in [Form::Flat, Form::Wrapped] {
        let again = Event::decode(&event.encode(form)).expect("an encoded event decodes");
        assert_eq!((&again.kind, &again.device_id), (&event.kind, &event.device_id));
        assert_eq!((&again.device_type, &again.user_list), (&event.device_type, &event.user_list));
        assert_eq!(again.form, form);
    }
});
