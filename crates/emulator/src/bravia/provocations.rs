//! How to make the display answer each code of the page: `natural` where a real situation
//! produces it (the request, and the state to set first), `fault` where none does and a fault
//! rule must inject it. The list follows the display's configuration: 401 needs a PIN mode,
//! 403 an authenticating one, 40005 the standby quirk.

use crate::device::Provocation;

use super::methods::MAX_PAGE;
use super::screen::MAX_WATCHERS;
use super::{AuthMode, DisplayConfig, StandbyReply};

/// Codes no situation of the implemented methods produces: a fault rule emits them.
const FAULT_ONLY: &[(u16, &str)] = &[
    (1, "generic error: no situation defined"),
    (40006, "a device fault with an E-code: no situation defined"),
    (40200, "the display has no password to expire"),
    (40201, "the display is always on AC power"),
    (41011, "no USB recording is emulated: the recording service is absent"),
    (41012, "no SCART recording is emulated: the recording service is absent"),
    (41013, "no chapters: recordings have none"),
    (41021, "nothing writes to a storage: the recording service is absent"),
];

fn rpc(service: &str, method: &str, params: &str, version: &str) -> String {
    format!(
        "POST /sony/{service} {{\"method\":\"{method}\",\"id\":1,\"params\":{params},\"version\":\"{version}\"}}"
    )
}

/// The provocations of a display set up with `config`.
pub(crate) fn list(config: &DisplayConfig) -> Vec<Provocation> {
    let creds = match (config.auth, config.psk.as_deref()) {
        (AuthMode::None, _) => "no credentials needed".to_owned(),
        (AuthMode::Pin, _) => "with the auth cookie from actRegister".to_owned(),
        (_, Some(psk)) => format!("with X-Auth-PSK: {psk}"),
        (_, None) => "with valid credentials".to_owned(),
    };
    let mut out = Vec::new();
    let mut natural = |code: u16, how: String| {
        out.push(Provocation { code: code.to_string(), via: "natural", how, rule: None });
    };

    // HTTP layer.
    if config.auth == AuthMode::Pin || config.auth == AuthMode::PskAndPin {
        natural(
            401,
            format!(
                "{} without Authorization (or with a wrong Basic base64(\":PIN\")): HTTP 401, and a new PIN shows in the state's auth.pin",
                rpc(
                    "accessControl",
                    "actRegister",
                    r#"[{"clientid":"c1","nickname":"n"},[{"value":"yes","function":"WOL"}]]"#,
                    "1.0"
                )
            ),
        );
    }
    if config.auth != AuthMode::None {
        natural(
            403,
            format!(
                "{} without credentials (or a wrong X-Auth-PSK / expired cookie); IRCC with a wrong key gives a bare 403",
                rpc("system", "getSystemInformation", "[]", "1.0")
            ),
        );
    }
    natural(
        404,
        "POST /sony/nosuch, POST /sony/system/ (trailing slash), POST /foo; or during a restart window (requestReboot, or VirtualDisplay::start_restart_window): every /sony/ request, body without id".to_owned(),
    );
    natural(
        413,
        format!(
            "POST /sony/system with a body over {} bytes (max_body_bytes)",
            config.max_body_bytes
        ),
    );
    natural(
        414,
        format!(
            "POST /sony/system?<padding> with a request target over {} bytes (max_uri_bytes)",
            config.max_uri_bytes
        ),
    );
    natural(501, "GET (or any method but POST) /sony/system".to_owned());
    natural(
        503,
        format!(
            "more than {} requests at once (max_concurrent_requests), e.g. slow getContentList calls with distinct ids; the extra ones are refused at once",
            config.max_concurrent_requests
        ),
    );

    // JSON-RPC layer.
    natural(
        2,
        format!(
            "send headers with Content-Length: 100 and fewer body bytes, then stall for body_timeout ({} ms): [2, \"Timeout\"] without id",
            config.body_timeout.as_millis()
        ),
    );
    natural(
        3,
        format!(
            "{} {creds} (volume not a number string); also unknown scheme, source (\"source is invalid\"), LED mode, language, setting target",
            rpc("audio", "setAudioVolume", r#"[{"target":"speaker","volume":"loud"}]"#, "1.0")
        ),
    );
    natural(
        5,
        "POST /sony/system with an empty body, non-JSON, a non-object, or an object without id / with id 0 / without method / without params / params not an array / without version / version not \"X.Y\"".to_owned(),
    );
    let standby_note = match config.quirks.standby_error {
        StandbyReply::NotPowerOn => "; any other method answers the same in standby",
        StandbyReply::DisplayOff => "",
    };
    natural(
        7,
        format!(
            "set state {{\"power\":\"standby\"}}, then {}: [7, \"not power-on\"]{standby_note}",
            rpc("accessControl", "actRegister", r#"[{"clientid":"c1","nickname":"n"},[]]"#, "1.0")
        ),
    );
    natural(
        7,
        format!(
            "set state {{\"active_app\":\"com.sony.dtv.com.netflix.ninja.com.netflix.ninja.MainActivity\"}}, then {} {creds}: [7, \"Illegal State\"]; also setTextForm while state text_field_focused is false",
            rpc("avContent", "getPlayingContentInfo", "[]", "1.0")
        ),
    );
    natural(12, rpc("system", "getNoSuchThing", "[]", "1.0"));
    natural(14, rpc("system", "getPowerStatus", "[]", "9.9"));
    natural(
        15,
        format!(
            "{} {creds}: a page larger than the display's {MAX_PAGE}",
            rpc(
                "avContent",
                "getContentList",
                &format!(r#"[{{"source":"extInput:hdmi","stIdx":0,"cnt":{}}}]"#, MAX_PAGE + 1),
                "1.5"
            )
        ),
    );

    // Common area.
    let notify = rpc(
        "videoScreen",
        "requestToNotifyScreenState",
        r#"[{"multiScreenMode":"single","pipSubScreenPosition":"invalid","audioSourceScreen":"main","option":{"internetTVMode":false}}]"#,
        "1.1",
    );
    natural(
        40000,
        format!(
            "{notify} (the layout the display has): held until the layout changes, else answered after notify_hold ({} ms)",
            config.notify_hold.as_millis()
        ),
    );
    natural(
        40001,
        format!(
            "{} long polls at once of {notify}: the one past {MAX_WATCHERS} is refused",
            MAX_WATCHERS + 1
        ),
    );
    natural(
        40002,
        format!(
            "set state {{\"text_field_focused\":true}}, then {} {creds}: encKey not base64 or not 256 bytes (or state public_key false)",
            rpc("appControl", "setTextForm", r#"[{"encKey":"not-a-key","text":"x"}]"#, "1.1")
        ),
    );
    natural(
        40003,
        format!(
            "send {} {creds} twice at once, same id: the second, while the first is processed (slow_method_delay {} ms)",
            rpc(
                "avContent",
                "getContentList",
                r#"[{"source":"extInput:hdmi","stIdx":0,"cnt":50}]"#,
                "1.5"
            ),
            config.slow_method_delay.as_millis()
        ),
    );
    natural(
        40004,
        format!(
            "{} {creds}: several settings, one invalid (the valid ones are applied); same for setPictureQualitySettings and setSpeakerSettings",
            rpc(
                "audio",
                "setSoundSettings",
                r#"[{"settings":[{"target":"outputTerminal","value":"hdmi"},{"target":"soundMode","value":"loud"}]}]"#,
                "1.1"
            )
        ),
    );
    let off = format!(
        "set state {{\"power\":\"standby\"}}, then {} {creds}",
        rpc("audio", "getVolumeInformation", "[]", "1.0")
    );
    match config.quirks.standby_error {
        StandbyReply::DisplayOff => natural(40005, off),
        StandbyReply::NotPowerOn => out.push(Provocation {
            code: "40005".to_owned(),
            via: "fault",
            how: format!(
                "a fault rule; or make the display with quirks.standby_error = DisplayOff and: {off}"
            ),
            rule: None,
        }),
    }
    let mut natural = |code: u16, how: String| {
        out.push(Provocation { code: code.to_string(), via: "natural", how, rule: None });
    };

    // Audio.
    natural(
        40800,
        format!(
            "{} {creds}",
            rpc("audio", "setAudioVolume", r#"[{"target":"subwoofer","volume":"10"}]"#, "1.0")
        ),
    );
    natural(
        40801,
        format!(
            "{} {creds} (outside the target's minVolume..maxVolume, 0..100 unless the state says otherwise; relative values too)",
            rpc("audio", "setAudioVolume", r#"[{"target":"speaker","volume":"101"}]"#, "1.0")
        ),
    );

    // videoScreen.
    natural(
        40600,
        format!(
            "{} {creds}, then any layout setter (setMultiScreenMode, setPipSubScreenPosition, setAudioSourceScreen, setPapScreenSize) within screen_change_delay ({} ms)",
            rpc("videoScreen", "setMultiScreenMode", r#"[{"mode":"PIP"}]"#, "1.0"),
            config.screen_change_delay.as_millis()
        ),
    );

    // avContent: recordings on storage, favourites.
    natural(
        41000,
        format!(
            "{} {creds}: the default recording 2 is protected (state recordings[].protected)",
            rpc("avContent", "deleteContent", r#"[{"uri":"storage:usb1?id=2"}]"#, "1.0")
        ),
    );
    natural(
        41002,
        format!(
            "set state {{\"recordings\":[]}}, then {} {creds}",
            rpc("avContent", "getContentList", r#"[{"source":"storage:usb1"}]"#, "1.0")
        ),
    );
    natural(
        41003,
        format!(
            "{} {creds}: a storage's URI deletes its recordings, the protected one stays",
            rpc("avContent", "deleteContent", r#"[{"uri":"storage:usb1"}]"#, "1.0")
        ),
    );
    natural(
        41020,
        format!(
            "{} {creds}; also getContentList, deleteContent of an unmounted storage (mountStorage action unmount)",
            rpc("system", "getStorageList", r#"[{"uri":"storage:usb9"}]"#, "1.1")
        ),
    );
    natural(
        41022,
        format!(
            "{} {creds}: an input has no protection attribute",
            rpc(
                "avContent",
                "setDeleteProtection",
                r#"[{"uri":"extInput:hdmi?port=1","isProtected":true}]"#,
                "1.0"
            )
        ),
    );
    natural(
        41023,
        format!(
            "{} {creds}: the lists are fav:1 to fav:4",
            rpc(
                "avContent",
                "setFavoriteContentList",
                r#"[{"favSource":"fav:9","contents":[]}]"#,
                "1.0"
            )
        ),
    );
    natural(
        41024,
        format!(
            "{} {creds}: a favourite list takes channels only (also setTvContentVisibility)",
            rpc(
                "avContent",
                "setFavoriteContentList",
                r#"[{"favSource":"fav:1","contents":["extInput:hdmi?port=1"]}]"#,
                "1.0"
            )
        ),
    );

    // avContent: inputs and channels.
    natural(
        41001,
        format!(
            "{} {creds}",
            rpc("avContent", "setPlayContent", r#"[{"uri":"extInput:hdmi?port=9"}]"#, "1.0")
        ),
    );
    natural(
        41014,
        format!(
            "set state {{\"channels\":[{{\"title\":\"A\",\"dispNum\":\"1\"}},{{\"title\":\"B\",\"dispNum\":\"1\"}}]}}, then {} {creds}",
            rpc("avContent", "setPlayContent", r#"[{"uri":"tv:dvbt?dispNum=1"}]"#, "1.0")
        ),
    );
    natural(
        41015,
        format!(
            "with state channels empty (the default), {} {creds}",
            rpc("avContent", "getContentList", r#"[{"source":"tv:dvbt"}]"#, "1.0")
        ),
    );

    // appControl.
    let slow_app =
        r#"set state {"apps":[{"title":"Slow","uri":"com.example.slow","launch_ms":60000}]}"#;
    natural(
        41400,
        format!(
            "{slow_app}, then {} {creds} twice: the second while the launch is in progress (app_launch_delay {} ms unless the app sets launch_ms)",
            rpc("appControl", "setActiveApp", r#"[{"uri":"com.example.slow"}]"#, "1.0"),
            config.app_launch_delay.as_millis()
        ),
    );
    natural(
        41401,
        format!(
            "{} {creds}: a URI no installed app has",
            rpc("appControl", "setActiveApp", r#"[{"uri":"com.example.missing"}]"#, "1.0")
        ),
    );
    natural(
        41402,
        format!(
            "{slow_app}, then {} {creds}: the launch takes longer than launch_undecided_after ({} ms), answered then, completed in the background",
            rpc("appControl", "setActiveApp", r#"[{"uri":"com.example.slow"}]"#, "1.0"),
            config.launch_undecided_after.as_millis()
        ),
    );
    natural(
        41403,
        format!(
            "launch the non-terminable \"Signage Player\" (or set state active_app to it), then {} {creds}",
            rpc("appControl", "terminateApps", "[]", "1.0")
        ),
    );

    // encryption.
    natural(
        42400,
        format!(
            "set state {{\"public_key\":false}}, then {}",
            rpc("encryption", "getPublicKey", "[]", "1.0")
        ),
    );

    if config.auth != AuthMode::Pin && config.auth != AuthMode::PskAndPin {
        out.push(Provocation {
            code: "401".to_owned(),
            via: "fault",
            how: "a fault rule; naturally only in the pin and psk+pin auth modes (actRegister without the PIN)".to_owned(),
            rule: None,
        });
    }
    if config.auth == AuthMode::None {
        out.push(Provocation {
            code: "403".to_owned(),
            via: "fault",
            how: "a fault rule; naturally only when the display authenticates (auth mode psk, pin or psk+pin)".to_owned(),
            rule: None,
        });
    }
    for (code, why) in FAULT_ONLY {
        out.push(Provocation {
            code: code.to_string(),
            via: "fault",
            how: format!("a fault rule ({why})"),
            rule: None,
        });
    }
    out
}
