//! The endpoints of the ThinQ Connect API, one table: the HTTP method, the path (`{id}`: a
//! device id), and the SDK method that calls it (`ThinQApi.async_*` of `thinqconnect` 1.0.14,
//! without the prefix). The emulator's cloud dispatches on [`Endpoint`], its codec classifies
//! requests by [`route_path`], the client builds its paths with [`Endpoint::path_for`], and
//! the CLI's detection asks [`is_api_path`]: one list, so they cannot drift apart.
//!
//! `/notification`, which the CLI's detection once listed, is not in the table: LG's OpenAPI
//! document and the SDK name no such path (`notification` is only a member of a device
//! profile, `notification.push`), so neither the cloud nor the client has anything to answer
//! or call there.
//!
//! ```
//! use devfault_thinq::endpoint::{Endpoint, Method, route};
//! let routed = route("GET", "/devices/ac-living-room/state").unwrap();
//! assert_eq!(routed.endpoint, Endpoint::GetDeviceStatus);
//! assert_eq!(routed.device, Some("ac-living-room"));
//! assert_eq!(Endpoint::PostDeviceControl.method(), Method::Post);
//! assert_eq!(Endpoint::PostDeviceControl.path_for("washer"), "/devices/washer/control");
//! ```

use std::fmt;

/// The HTTP methods the API uses.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method as HTTP writes it (`GET`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row: the path is `prefix`, or `prefix` + id + `suffix` for a path naming a device
/// (split where the table is written, so routing compares a prefix and a suffix, never
/// searches for `{id}`).
struct Row {
    method: Method,
    template: &'static str,
    prefix: &'static str,
    suffix: Option<&'static str>,
    sdk_method: &'static str,
}

/// Writes [`Endpoint`] and its rows from one table.
macro_rules! endpoints {
    ($($(#[$doc:meta])* $variant:ident = $method:ident $prefix:literal $({id} $suffix:literal)? => $sdk:literal;)*) => {
        /// An endpoint of the ThinQ Connect API: a method on a path.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum Endpoint {
            $($(#[$doc])* $variant,)*
        }

        impl Endpoint {
            /// Every endpoint, in the table's order.
            pub const ALL: &'static [Endpoint] = &[$(Endpoint::$variant,)*];

            fn row(self) -> &'static Row {
                match self {
                    $(Endpoint::$variant => &Row {
                        method: Method::$method,
                        template: concat!($prefix $(, "{id}", $suffix)?),
                        prefix: $prefix,
                        suffix: endpoints!(@suffix $($suffix)?),
                        sdk_method: $sdk,
                    },)*
                }
            }
        }
    };
    (@suffix $suffix:literal) => { Some($suffix) };
    (@suffix) => { None };
}

endpoints! {
    /// The API server of the token's region; the only endpoint without a token.
    GetRoute = Get "/route" => "get_route";
    /// The user's devices.
    GetDeviceList = Get "/devices" => "get_device_list";
    /// A device's profile.
    GetDeviceProfile = Get "/devices/" {id} "/profile" => "get_device_profile";
    /// A device's state.
    GetDeviceStatus = Get "/devices/" {id} "/state" => "get_device_status";
    /// A command to a device.
    PostDeviceControl = Post "/devices/" {id} "/control" => "post_device_control";
    /// The devices whose push messages are subscribed.
    GetPushList = Get "/push" => "get_push_list";
    /// Subscribes to a device's push messages.
    PostPushSubscribe = Post "/push/" {id} "/subscribe" => "post_push_subscribe";
    /// Unsubscribes from a device's push messages.
    DeletePushSubscribe = Delete "/push/" {id} "/unsubscribe" => "delete_push_subscribe";
    /// The clients receiving device add/remove pushes.
    GetPushDevicesList = Get "/push/devices" => "get_push_devices_list";
    /// Subscribes the client to device add/remove pushes.
    PostPushDevicesSubscribe = Post "/push/devices" => "post_push_devices_subscribe";
    /// Unsubscribes the client from device add/remove pushes.
    DeletePushDevicesSubscribe = Delete "/push/devices" => "delete_push_devices_subscribe";
    /// The devices whose events are subscribed.
    GetEventList = Get "/event" => "get_event_list";
    /// Subscribes to a device's events.
    PostEventSubscribe = Post "/event/" {id} "/subscribe" => "post_event_subscribe";
    /// Unsubscribes from a device's events.
    DeleteEventSubscribe = Delete "/event/" {id} "/unsubscribe" => "delete_event_subscribe";
    /// Registers the client for MQTT.
    PostClientRegister = Post "/client" => "post_client_register";
    /// Removes the client's MQTT registration.
    DeleteClientRegister = Delete "/client" => "delete_client_register";
    /// Asks for the client's MQTT certificate.
    PostClientCertificate = Post "/client/certificate" => "post_client_certificate";
    /// A device's energy profile.
    GetDeviceEnergyProfile = Get "/devices/energy/" {id} "/profile" => "get_device_energy_profile";
    /// A device's energy usage.
    GetDeviceEnergyUsage = Get "/devices/energy/" {id} "/usage" => "get_device_energy_usage";
}

impl Endpoint {
    /// The HTTP method.
    pub fn method(self) -> Method {
        self.row().method
    }

    /// The path, with `{id}` where a device id goes (`/devices/{id}/state`).
    pub fn template(self) -> &'static str {
        self.row().template
    }

    /// The SDK method that calls it, without `async_` (`get_device_status`).
    pub fn sdk_method(self) -> &'static str {
        self.row().sdk_method
    }

    /// True when the path names a device (`{id}`).
    pub fn names_device(self) -> bool {
        self.row().suffix.is_some()
    }

    /// The path for the device `id` (ignored by an endpoint that names none). The id goes in
    /// as given: a caller taking ids from outside checks first that it is one path segment
    /// (the client's `segment` does).
    pub fn path_for(self, id: &str) -> String {
        let row = self.row();
        match row.suffix {
            Some(suffix) => format!("{}{id}{suffix}", row.prefix),
            None => row.prefix.to_owned(),
        }
    }

    /// `Some(device)` when `path` is this endpoint's path (`Some(None)` for a path naming no
    /// device): the id is one non-empty segment. Compared as prefix and suffix: every request
    /// is routed.
    pub fn device_in(self, path: &str) -> Option<Option<&str>> {
        let row = self.row();
        let Some(suffix) = row.suffix else {
            return (row.prefix == path).then_some(None);
        };
        let id = path.strip_prefix(row.prefix)?.strip_suffix(suffix)?;
        (!id.is_empty() && !id.contains('/')).then_some(Some(id))
    }

    /// The other endpoints on this one's path, this one included (`GET`, `POST` and `DELETE`
    /// `/push/devices`), in the table's order.
    pub fn on_same_path(self) -> impl Iterator<Item = Endpoint> {
        let template = self.template();
        Endpoint::ALL.iter().copied().filter(move |e| e.template() == template)
    }

    /// The service: the path's first segment (`devices`, `push`).
    pub fn service(self) -> &'static str {
        let path = &self.row().prefix[1..];
        path.split_once('/').map_or(path, |(first, _)| first)
    }
}

impl fmt::Display for Endpoint {
    /// `GET /devices/{id}/state`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method(), self.template())
    }
}

/// A path of the API, before its method is looked at: the first endpoint on it (see
/// [`Endpoint::on_same_path`]) and the device it names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PathRoute<'p> {
    /// The first endpoint of the table on this path.
    pub first: Endpoint,
    /// The device id in the path.
    pub device: Option<&'p str>,
}

impl<'p> PathRoute<'p> {
    /// The route of `path` when it is known to be `first`'s path (as a router given an
    /// earlier routing is); `None` when it is not.
    pub fn resume(first: Endpoint, path: &'p str) -> Option<Self> {
        first.device_in(path).map(|device| PathRoute { first, device })
    }

    /// True when several endpoints share the path (they differ by method).
    pub fn is_shared(&self) -> bool {
        self.first.on_same_path().nth(1).is_some()
    }

    /// The endpoint of `method` on this path; [`RouteMiss::Method`] with the methods the path
    /// takes otherwise.
    pub fn with_method(self, method: &str) -> Result<Routed<'p>, RouteMiss> {
        // Most paths have one endpoint: its method is checked before the table is walked.
        if self.first.method().as_str() == method {
            return Ok(Routed { endpoint: self.first, device: self.device });
        }
        self.first
            .on_same_path()
            .find(|e| e.method().as_str() == method)
            .map(|endpoint| Routed { endpoint, device: self.device })
            .ok_or_else(|| RouteMiss::Method {
                allowed: self.first.on_same_path().map(Endpoint::method).collect(),
            })
    }
}

/// The endpoint a request addresses and the device its path names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Routed<'p> {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The device id in the path, for an endpoint that [names one](Endpoint::names_device).
    pub device: Option<&'p str>,
}

/// Why a request addresses no endpoint.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum RouteMiss {
    /// No endpoint has this path (LG answers 1000, bad request).
    UnknownPath,
    /// The path is an endpoint's, with other methods (LG answers 1305, not allowed API).
    Method {
        /// The methods the path takes, in the table's order.
        allowed: Vec<Method>,
    },
}

/// The endpoint's path `path` is on, whatever the method.
pub fn route_path(path: &str) -> Option<PathRoute<'_>> {
    Endpoint::ALL.iter().find_map(|&first| PathRoute::resume(first, path))
}

/// The endpoint `method` (`GET`, as HTTP writes it) on `path` addresses.
pub fn route<'p>(method: &str, path: &'p str) -> Result<Routed<'p>, RouteMiss> {
    route_path(path).ok_or(RouteMiss::UnknownPath)?.with_method(method)
}

/// True when `path` (possibly with a query) lies under one of the API's services
/// (`/devices`, `/push/…`): what a captured request's path says about its API. Looser than
/// [`route_path`] on purpose: a capture may hold a query string or a path newer than the table.
pub fn is_api_path(path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let Some(rest) = path.strip_prefix('/') else { return false };
    let first = rest.split_once('/').map_or(rest, |(first, _)| first);
    Endpoint::ALL.iter().any(|e| e.service() == first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_round_trips_from_template_to_route() {
        assert_eq!(Endpoint::ALL.len(), 19);
        for &endpoint in Endpoint::ALL {
            let path = endpoint.path_for("washer-main");
            assert_eq!(path, endpoint.template().replace("{id}", "washer-main"));
            let routed = route(endpoint.method().as_str(), &path).expect(&path);
            assert_eq!(routed.endpoint, endpoint, "{path}");
            assert_eq!(routed.device.is_some(), endpoint.names_device(), "{path}");
            assert_eq!(routed.device.is_some(), endpoint.template().contains("{id}"));
            assert!(is_api_path(&path), "{path}");
            assert!(endpoint.sdk_method().starts_with(&endpoint.method().as_str().to_lowercase()));
            // A path matches one template only: no other row's path accepts it.
            for &other in Endpoint::ALL {
                if other.template() != endpoint.template() {
                    assert_eq!(other.device_in(&path), None, "{other} takes {path}");
                }
            }
        }
        let sdk: std::collections::HashSet<_> =
            Endpoint::ALL.iter().map(|e| e.sdk_method()).collect();
        assert_eq!(sdk.len(), Endpoint::ALL.len(), "one SDK method per endpoint");
    }

    #[test]
    fn ids_are_one_non_empty_segment() {
        assert_eq!(route("GET", "/devices/a/b/state"), Err(RouteMiss::UnknownPath));
        assert_eq!(route("GET", "/devices//state"), Err(RouteMiss::UnknownPath));
        assert_eq!(route("GET", "/devices/"), Err(RouteMiss::UnknownPath));
        assert_eq!(route("GET", "/devices/ac-1/state/extra"), Err(RouteMiss::UnknownPath));
        assert_eq!(route("POST", "/push/subscribe"), Err(RouteMiss::UnknownPath));
        let energy = route("GET", "/devices/energy/x/profile").expect("energy profile");
        assert_eq!((energy.endpoint, energy.device), (Endpoint::GetDeviceEnergyProfile, Some("x")));
        // "energy" alone is a device id to /devices/{id}/profile.
        let named = route("GET", "/devices/energy/profile").expect("profile");
        assert_eq!((named.endpoint, named.device), (Endpoint::GetDeviceProfile, Some("energy")));
    }

    #[test]
    fn a_known_path_with_another_method_lists_the_methods_it_takes() {
        assert_eq!(
            route("PUT", "/push/devices"),
            Err(RouteMiss::Method { allowed: vec![Method::Get, Method::Post, Method::Delete] })
        );
        assert_eq!(
            route("GET", "/client"),
            Err(RouteMiss::Method { allowed: vec![Method::Post, Method::Delete] })
        );
        assert_eq!(route("get", "/route"), Err(RouteMiss::Method { allowed: vec![Method::Get] }));
        assert_eq!(route("GET", "/nowhere"), Err(RouteMiss::UnknownPath));
        let shared = route_path("/push/devices").expect("a path");
        assert!(shared.is_shared());
        assert!(!route_path("/devices").expect("a path").is_shared());
        assert_eq!(
            PathRoute::resume(Endpoint::GetDeviceStatus, "/devices/x/state"),
            route_path("/devices/x/state")
        );
        assert_eq!(PathRoute::resume(Endpoint::GetDeviceStatus, "/devices/x/profile"), None);
    }

    #[test]
    fn api_paths_are_those_under_the_tables_services() {
        for path in ["/route", "/devices", "/devices/x/anything", "/push/devices?x=1", "/client"] {
            assert!(is_api_path(path), "{path}");
        }
        for path in ["", "/", "/sony/system", "/notification", "/routes", "devices", "/device"] {
            assert!(!is_api_path(path), "{path}");
        }
        assert_eq!(Endpoint::GetDeviceEnergyUsage.service(), "devices");
        assert_eq!(Endpoint::GetRoute.service(), "route");
        assert_eq!(Endpoint::PostDeviceControl.to_string(), "POST /devices/{id}/control");
    }
}
