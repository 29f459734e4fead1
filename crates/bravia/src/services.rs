//! The typed calls of the BRAVIA client, one handle per service, and the values they return.
//!
//! Each call names the versions of its method this client speaks, newest first; the client
//! picks the newest one the display lists. Each says whether it is idempotent, which decides
//! whether a timeout or a broken connection may be retried.

use devfault_core::{Failure, FailureKind, Idempotency};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::{Client, Error, MethodSpec};

const READ: Idempotency = Idempotency::Idempotent;
const ONCE: Idempotency = Idempotency::NonIdempotent;

fn spec<'a>(
    service: &'a str,
    method: &'a str,
    versions: &'a [&'a str],
    idempotency: Idempotency,
) -> MethodSpec<'a> {
    MethodSpec { service, method, versions, idempotency }
}

/// Reads element `index` of a result array as `T`; a shape the display should not send is a
/// protocol failure that quotes what came.
fn element<T: DeserializeOwned>(method: &str, result: &[Value], index: usize) -> Result<T, Error> {
    let value = result.get(index).cloned().unwrap_or(Value::Null);
    serde_json::from_value(value.clone()).map_err(|e| {
        let mut text = value.to_string();
        text.truncate(160);
        Error::from_failure(
            Failure::new("bravia", FailureKind::Protocol, format!("{method} answered result[{index}] = {text}, which is not the documented shape ({e})"))
                .with_outcome_unknown(false),
        )
    })
}

/// What `getPowerStatus` says.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum PowerStatus {
    /// The display is on.
    Active,
    /// The display is in standby (it still answers `getPowerStatus`).
    Standby,
    /// Another status, as sent.
    Other(String),
}

impl PowerStatus {
    fn parse(text: &str) -> PowerStatus {
        match text {
            "active" => PowerStatus::Active,
            "standby" => PowerStatus::Standby,
            other => PowerStatus::Other(other.to_owned()),
        }
    }
}

/// `getSystemInformation`'s answer; members a model leaves out are empty.
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
#[non_exhaustive]
pub struct SystemInformation {
    /// `TV`.
    pub product: String,
    /// Sales region, e.g. `XEU`.
    pub region: String,
    /// Menu language, e.g. `eng`.
    pub language: String,
    /// Model name, e.g. `FW-55BZ35F`.
    pub model: String,
    /// Serial number.
    pub serial: String,
    /// MAC address.
    pub mac_addr: String,
    /// Product name, e.g. `BRAVIA`.
    pub name: String,
    /// API generation, e.g. `5.0.1`.
    pub generation: String,
    /// Area, e.g. `DEU`.
    pub area: String,
    /// Unique id (Home Assistant's unique id).
    pub cid: String,
}

/// `getInterfaceInformation`'s answer.
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
#[non_exhaustive]
pub struct InterfaceInformation {
    /// `tv`.
    pub product_category: String,
    /// `BRAVIA`.
    pub product_name: String,
    /// Model name.
    pub model_name: String,
    /// Server name (often empty).
    pub server_name: String,
    /// The REST API's interface version, e.g. `5.0.1`.
    pub interface_version: String,
}

/// One remote key of `getRemoteControllerInfo`.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[non_exhaustive]
pub struct RemoteCode {
    /// Key name, e.g. `PowerOff`.
    pub name: String,
    /// Base64 IRCC code for [`Client::send_ircc`].
    pub value: String,
}

/// The system service.
#[derive(Clone, Copy, Debug)]
pub struct System<'c> {
    client: &'c Client,
}

impl<'c> System<'c> {
    pub(crate) fn new(client: &'c Client) -> System<'c> {
        System { client }
    }

    /// `getPowerStatus`: answered in standby too.
    pub async fn power_status(&self) -> Result<PowerStatus, Error> {
        #[derive(Deserialize)]
        struct Status {
            status: String,
        }
        let result =
            self.client.call_spec(&spec("system", "getPowerStatus", &["1.0"], READ), &[]).await?;
        let status: Status = element("getPowerStatus", &result, 0)?;
        Ok(PowerStatus::parse(&status.status))
    }

    /// `setPowerStatus`: `true` wakes the display, `false` puts it in standby. Idempotent.
    pub async fn set_power(&self, on: bool) -> Result<(), Error> {
        self.client
            .call_spec(
                &spec("system", "setPowerStatus", &["1.0"], READ),
                &[json!({ "status": on })],
            )
            .await?;
        Ok(())
    }

    /// `getSystemInformation` (auth level private).
    pub async fn system_information(&self) -> Result<SystemInformation, Error> {
        let result = self
            .client
            .call_spec(&spec("system", "getSystemInformation", &["1.0"], READ), &[])
            .await?;
        element("getSystemInformation", &result, 0)
    }

    /// `getInterfaceInformation`.
    pub async fn interface_information(&self) -> Result<InterfaceInformation, Error> {
        let result = self
            .client
            .call_spec(&spec("system", "getInterfaceInformation", &["1.0"], READ), &[])
            .await?;
        element("getInterfaceInformation", &result, 0)
    }

    /// `getRemoteControllerInfo`: the IRCC codes of the remote's keys (the result's second
    /// element).
    pub async fn remote_controller_info(&self) -> Result<Vec<RemoteCode>, Error> {
        let result = self
            .client
            .call_spec(&spec("system", "getRemoteControllerInfo", &["1.0"], READ), &[])
            .await?;
        element("getRemoteControllerInfo", &result, 1)
    }
}

/// An audio output.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Target {
    /// The built-in speakers.
    Speaker,
    /// The headphone output.
    Headphone,
    /// Every output (`""` on the wire).
    All,
    /// Another target name, as the display calls it.
    Other(String),
}

impl Target {
    /// The name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Target::Speaker => "speaker",
            Target::Headphone => "headphone",
            Target::All => "",
            Target::Other(name) => name,
        }
    }
}

/// A volume change.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Volume {
    /// Set to this level (`"30"`); repeating it is harmless.
    Absolute(u32),
    /// Change by this much (`"+5"`, `"-5"`); repeating it changes the volume again.
    Relative(i32),
}

impl Volume {
    /// The value on the wire.
    pub fn to_wire(self) -> String {
        match self {
            Volume::Absolute(level) => level.to_string(),
            Volume::Relative(step) if step >= 0 => format!("+{step}"),
            Volume::Relative(step) => step.to_string(),
        }
    }
}

/// One output of `getVolumeInformation`.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct VolumeInfo {
    /// `speaker`, `headphone`...
    pub target: String,
    /// Current level.
    pub volume: i64,
    /// Muted or not.
    #[serde(default)]
    pub mute: bool,
    /// Highest level.
    #[serde(default)]
    pub max_volume: Option<i64>,
    /// Lowest level.
    #[serde(default)]
    pub min_volume: Option<i64>,
}

/// The audio service.
#[derive(Clone, Copy, Debug)]
pub struct Audio<'c> {
    client: &'c Client,
}

impl<'c> Audio<'c> {
    pub(crate) fn new(client: &'c Client) -> Audio<'c> {
        Audio { client }
    }

    /// `getVolumeInformation`: every output.
    pub async fn volume_information(&self) -> Result<Vec<VolumeInfo>, Error> {
        let result = self
            .client
            .call_spec(&spec("audio", "getVolumeInformation", &["1.0"], READ), &[])
            .await?;
        element("getVolumeInformation", &result, 0)
    }

    /// `setAudioVolume` (1.2 when the display has it, else 1.0). `[40801]` for a level out of
    /// range, `[40800]` for a target the display lacks. A relative change is not retried after
    /// a timeout.
    pub async fn set_volume(&self, target: Target, volume: Volume) -> Result<(), Error> {
        let idempotency = if matches!(volume, Volume::Absolute(_)) { READ } else { ONCE };
        let params = [json!({ "target": target.as_str(), "volume": volume.to_wire() })];
        self.client
            .call_spec(&spec("audio", "setAudioVolume", &["1.2", "1.0"], idempotency), &params)
            .await?;
        Ok(())
    }

    /// `setAudioMute`.
    pub async fn set_mute(&self, mute: bool) -> Result<(), Error> {
        self.client
            .call_spec(&spec("audio", "setAudioMute", &["1.0"], READ), &[json!({ "status": mute })])
            .await?;
        Ok(())
    }
}

/// One input of `getCurrentExternalInputsStatus`.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExternalInput {
    /// e.g. `extInput:hdmi?port=1`, for [`AvContent::set_play_content`].
    pub uri: String,
    /// e.g. `HDMI 1`.
    #[serde(default)]
    pub title: String,
    /// The user's label.
    #[serde(default)]
    pub label: String,
    /// e.g. `meta:hdmi`.
    #[serde(default)]
    pub icon: String,
    /// Something is plugged in.
    #[serde(default)]
    pub connection: bool,
    /// Version 1.1's signal status, when sent.
    #[serde(default)]
    pub status: Option<String>,
}

/// `getPlayingContentInfo`'s answer: the input or channel shown.
#[derive(Clone, PartialEq, Eq, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
#[non_exhaustive]
pub struct PlayingContent {
    /// e.g. `extInput:hdmi?port=2`.
    pub uri: String,
    /// e.g. `extInput:hdmi`.
    pub source: String,
    /// e.g. `HDMI 2`.
    pub title: String,
}

/// The avContent service.
#[derive(Clone, Copy, Debug)]
pub struct AvContent<'c> {
    client: &'c Client,
}

impl<'c> AvContent<'c> {
    pub(crate) fn new(client: &'c Client) -> AvContent<'c> {
        AvContent { client }
    }

    /// `getCurrentExternalInputsStatus` (1.1 when listed, else 1.0).
    pub async fn external_inputs_status(&self) -> Result<Vec<ExternalInput>, Error> {
        let versions = &["1.1", "1.0"];
        let result = self
            .client
            .call_spec(&spec("avContent", "getCurrentExternalInputsStatus", versions, READ), &[])
            .await?;
        element("getCurrentExternalInputsStatus", &result, 0)
    }

    /// `getPlayingContentInfo`. Real displays answer `[7, "Illegal State"]` while an app is
    /// shown; [`Error::is_display_off`] tells that apart from standby.
    pub async fn playing_content_info(&self) -> Result<PlayingContent, Error> {
        let result = self
            .client
            .call_spec(&spec("avContent", "getPlayingContentInfo", &["1.0"], READ), &[])
            .await?;
        element("getPlayingContentInfo", &result, 0)
    }

    /// `setPlayContent`: switch to an input or content by URI. Idempotent.
    pub async fn set_play_content(&self, uri: &str) -> Result<(), Error> {
        self.client
            .call_spec(
                &spec("avContent", "setPlayContent", &["1.0"], READ),
                &[json!({ "uri": uri })],
            )
            .await?;
        Ok(())
    }

    /// `getSourceList` of a scheme (`extInput`, `tv`...): the source URIs.
    pub async fn source_list(&self, scheme: &str) -> Result<Vec<String>, Error> {
        #[derive(Deserialize)]
        struct Source {
            source: String,
        }
        let result = self
            .client
            .call_spec(
                &spec("avContent", "getSourceList", &["1.0"], READ),
                &[json!({ "scheme": scheme })],
            )
            .await?;
        let sources: Vec<Source> = element("getSourceList", &result, 0)?;
        Ok(sources.into_iter().map(|s| s.source).collect())
    }
}

/// One app of `getApplicationList`.
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[non_exhaustive]
pub struct App {
    /// e.g. `YouTube`.
    pub title: String,
    /// For [`AppControl::set_active_app`].
    pub uri: String,
    /// Icon URL.
    #[serde(default)]
    pub icon: String,
}

/// The appControl service.
#[derive(Clone, Copy, Debug)]
pub struct AppControl<'c> {
    client: &'c Client,
}

impl<'c> AppControl<'c> {
    pub(crate) fn new(client: &'c Client) -> AppControl<'c> {
        AppControl { client }
    }

    /// `getApplicationList` (auth level private).
    pub async fn application_list(&self) -> Result<Vec<App>, Error> {
        let result = self
            .client
            .call_spec(&spec("appControl", "getApplicationList", &["1.0"], READ), &[])
            .await?;
        element("getApplicationList", &result, 0)
    }

    /// `setActiveApp`: launch an app. `[41400]` while another launch runs is retried after
    /// it; a timeout is not (the app may be starting).
    pub async fn set_active_app(&self, uri: &str) -> Result<(), Error> {
        self.client
            .call_spec(
                &spec("appControl", "setActiveApp", &["1.0"], ONCE),
                &[json!({ "uri": uri })],
            )
            .await?;
        Ok(())
    }

    /// `terminateApps`: close every app. Idempotent.
    pub async fn terminate_apps(&self) -> Result<(), Error> {
        self.client.call_spec(&spec("appControl", "terminateApps", &["1.0"], READ), &[]).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_and_targets_on_the_wire() {
        assert_eq!(Volume::Absolute(30).to_wire(), "30");
        assert_eq!(Volume::Relative(5).to_wire(), "+5");
        assert_eq!(Volume::Relative(-5).to_wire(), "-5");
        assert_eq!(Target::All.as_str(), "");
        assert_eq!(Target::Other("hdmi".to_owned()).as_str(), "hdmi");
    }

    #[test]
    fn a_result_of_the_wrong_shape_is_a_protocol_failure_quoting_it() {
        let err = element::<Vec<App>>("getApplicationList", &[json!({"x": 1})], 0)
            .expect_err("not a list");
        assert_eq!(err.kind, FailureKind::Protocol);
        assert!(err.message.contains(r#"{"x":1}"#), "{}", err.message);
        let missing =
            element::<SystemInformation>("getSystemInformation", &[], 0).expect_err("nothing");
        assert!(missing.message.contains("null"), "{}", missing.message);
    }
}
