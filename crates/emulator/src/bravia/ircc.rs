//! IRCC-IP: the SOAP remote-control endpoint `/sony/ircc` (and `/sony/IRCC`), with the real
//! success envelope and the UPnPError faults real displays answer with HTTP 500.

use super::state::{INPUTS, Power, State};

/// The remote's codes, as `system.getRemoteControllerInfo` lists them.
pub(crate) const CODES: &[(&str, &str)] = &[
    ("Num1", "AAAAAQAAAAEAAAAAAw=="),
    ("Num2", "AAAAAQAAAAEAAAABAw=="),
    ("Num3", "AAAAAQAAAAEAAAACAw=="),
    ("Num4", "AAAAAQAAAAEAAAADAw=="),
    ("Num5", "AAAAAQAAAAEAAAAEAw=="),
    ("Num6", "AAAAAQAAAAEAAAAFAw=="),
    ("Num7", "AAAAAQAAAAEAAAAGAw=="),
    ("Num8", "AAAAAQAAAAEAAAAHAw=="),
    ("Num9", "AAAAAQAAAAEAAAAIAw=="),
    ("Num0", "AAAAAQAAAAEAAAAJAw=="),
    ("ChannelUp", "AAAAAQAAAAEAAAAQAw=="),
    ("ChannelDown", "AAAAAQAAAAEAAAARAw=="),
    ("VolumeUp", "AAAAAQAAAAEAAAASAw=="),
    ("VolumeDown", "AAAAAQAAAAEAAAATAw=="),
    ("Mute", "AAAAAQAAAAEAAAAUAw=="),
    ("TvPower", "AAAAAQAAAAEAAAAVAw=="),
    ("Input", "AAAAAQAAAAEAAAAlAw=="),
    ("WakeUp", "AAAAAQAAAAEAAAAuAw=="),
    ("PowerOff", "AAAAAQAAAAEAAAAvAw=="),
    ("Right", "AAAAAQAAAAEAAAAzAw=="),
    ("Left", "AAAAAQAAAAEAAAA0Aw=="),
    ("Display", "AAAAAQAAAAEAAAA6Aw=="),
    ("Home", "AAAAAQAAAAEAAABgAw=="),
    ("Confirm", "AAAAAQAAAAEAAABlAw=="),
    ("Up", "AAAAAQAAAAEAAAB0Aw=="),
    ("Down", "AAAAAQAAAAEAAAB1Aw=="),
    ("Return", "AAAAAgAAAJcAAAAjAw=="),
    ("Options", "AAAAAgAAAJcAAAA2Aw=="),
    ("Blue", "AAAAAgAAAJcAAAAkAw=="),
    ("Red", "AAAAAgAAAJcAAAAlAw=="),
    ("Green", "AAAAAgAAAJcAAAAmAw=="),
    ("Yellow", "AAAAAgAAAJcAAAAnAw=="),
    ("Stop", "AAAAAgAAAJcAAAAYAw=="),
    ("Pause", "AAAAAgAAAJcAAAAZAw=="),
    ("Play", "AAAAAgAAAJcAAAAaAw=="),
    ("Hdmi1", "AAAAAgAAABoAAABaAw=="),
    ("Hdmi2", "AAAAAgAAABoAAABbAw=="),
    ("Hdmi3", "AAAAAgAAABoAAABcAw=="),
    ("Hdmi4", "AAAAAgAAABoAAABdAw=="),
    ("Netflix", "AAAAAgAAABoAAAB8Aw=="),
];

/// The success envelope.
pub(crate) const OK_BODY: &str = concat!(
    "<?xml version=\"1.0\"?>\n",
    "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" ",
    "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">",
    "<s:Body><u:X_SendIRCCResponse xmlns:u=\"urn:schemas-sony-com:service:IRCC:1\">",
    "</u:X_SendIRCCResponse></s:Body></s:Envelope>"
);

/// A UPnP fault: `errorCode` and `errorDescription` in the SOAP fault real displays send.
pub(crate) fn fault_body(code: u16, description: &str) -> String {
    format!(
        concat!(
            "<?xml version=\"1.0\"?>\n",
            "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" ",
            "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">",
            "<s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>",
            "<detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\">",
            "<errorCode>{code}</errorCode><errorDescription>{description}</errorDescription>",
            "</UPnPError></detail></s:Fault></s:Body></s:Envelope>"
        ),
        code = code,
        description = description
    )
}

/// What a `X_SendIRCC` request asks for.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Command {
    /// `<IRCCCode></IRCCCode>`: pybravia's wake-up probe; accepted, does nothing.
    Empty,
    /// A code of [`CODES`], by name.
    Known(&'static str),
    /// A code the remote does not have: UPnPError 800.
    Unknown,
    /// No `X_SendIRCC` action with an `IRCCCode` in the body: UPnPError 401.
    InvalidAction,
}

/// Reads the code out of a SOAP body.
pub(crate) fn parse(body: &[u8]) -> Command {
    let text = String::from_utf8_lossy(body);
    if !text.contains("X_SendIRCC") {
        return Command::InvalidAction;
    }
    let Some((_, after)) = text.split_once("<IRCCCode>") else {
        return Command::InvalidAction;
    };
    let Some((code, _)) = after.split_once("</IRCCCode>") else {
        return Command::InvalidAction;
    };
    let code = code.trim();
    if code.is_empty() {
        return Command::Empty;
    }
    CODES
        .iter()
        .find(|(_, value)| *value == code)
        .map_or(Command::Unknown, |(name, _)| Command::Known(name))
}

/// What a button does to the display. In standby only the power buttons act.
pub(crate) fn press(state: &mut State, name: &str) {
    if state.power != Power::Active {
        if matches!(name, "WakeUp" | "TvPower") {
            state.power = Power::Active;
        }
        return;
    }
    match name {
        "PowerOff" | "TvPower" => state.power = Power::Standby,
        "Mute" => state.mute = !state.mute,
        "VolumeUp" | "VolumeDown" => {
            if let Some(volume) = state.volumes.get_mut("speaker") {
                let step = if name == "VolumeUp" { 1 } else { -1 };
                volume.volume = (volume.volume + step).clamp(volume.min, volume.max);
            }
        }
        _ => {
            if let Some(port) = name.strip_prefix("Hdmi")
                && let Some(input) =
                    INPUTS.iter().find(|i| i.uri.ends_with(&format!("hdmi?port={port}")))
            {
                state.input = input.uri.to_owned();
                state.active_app = None;
            }
        }
    }
}
