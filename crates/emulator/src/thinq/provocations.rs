//! How to make the cloud answer each code of the registry: `natural` where a real situation
//! of the default household produces it (the request, with the headers that differ from a
//! valid call), `fault` where no situation does and a fault rule must inject it.
//!
//! A valid call carries `Authorization: Bearer <token>`, `x-message-id` (22 url-safe
//! characters of a UUID v4), `x-country: US`, `x-client-id`, and `x-api-key` (the published
//! key); "as a valid call" below means with those.

use crate::device::Provocation;

/// Every code, the way to provoke it (`natural` or `fault`), and how.
const PROVOCATIONS: &[(&str, &str, &str)] = &[
    (
        "0000",
        "fault",
        "no situation is undefined by design: a fault rule {\"action\":\"code\",\"code\":\"0000\"}",
    ),
    (
        "1000",
        "natural",
        "GET /nosuch (any path outside the API), or a control body that is not JSON",
    ),
    (
        "1101",
        "natural",
        "GET /devices without x-country (or without x-message-id, x-api-key, Authorization, x-client-id); POST /devices/ac-living-room/control with {}",
    ),
    (
        "1102",
        "natural",
        "POST /devices/ac-living-room/control {\"temperatureInUnits\":{\"coolTargetTemperature\":99,\"unit\":\"C\"}} (out of range; also a value not in the enum or of the wrong type); or POST /client/certificate with a csr that is not base64, not a DER PKCS#10 request, or of a key other than RSA >= 2048 / ECDSA P-256 or P-384",
    ),
    (
        "1103",
        "natural",
        "GET /devices with Authorization: Bearer bad!token (or without \"Bearer \")",
    ),
    (
        "1104",
        "natural",
        "GET /devices with x-message-id: short (not 22 url-safe characters of a UUID v4)",
    ),
    ("1201", "fault", "there is no administrator account to be missing: a fault rule"),
    ("1202", "fault", "every token's user is registered: a fault rule"),
    ("1203", "fault", "there is one service, always registered: a fault rule"),
    ("1204", "natural", "DELETE /event/ac-living-room/unsubscribe without a subscription"),
    ("1205", "natural", "GET /devices/no-such-device/state"),
    (
        "1206",
        "natural",
        "DELETE /push/ac-living-room/unsubscribe without a subscription; DELETE /push/devices for a client not receiving push",
    ),
    ("1207", "natural", "POST /push/ac-living-room/subscribe twice"),
    ("1208", "fault", "there is one service, registered by the administrator: a fault rule"),
    (
        "1209",
        "natural",
        "DELETE /client with the SDK's body before any POST /client from that x-client-id; or POST /client/certificate from an unregistered x-client-id",
    ),
    ("1210", "fault", "every appliance is registered in the service: a fault rule"),
    (
        "1211",
        "natural",
        "POST /push/ac-neighbour/subscribe (or /event/...): user 2's device in a subscription",
    ),
    ("1212", "natural", "GET /devices/ac-neighbour/state: user 2's device"),
    ("1213", "fault", "an appliance is either listed or unknown (1205): a fault rule"),
    (
        "1214",
        "natural",
        "POST /event/fridge-garage/subscribe {\"expire\":{\"unit\":\"HOUR\",\"timer\":4464}}: fridge-garage is not reportable",
    ),
    (
        "1216",
        "natural",
        "GET /devices with x-api-key: wrong (or x-service-phase: XX, or an x-client-id longer than 128)",
    ),
    ("1217", "natural", "GET /devices/dehumidifier-deleted/state: a device user 1 deleted"),
    (
        "1218",
        "natural",
        "GET /devices with Authorization: Bearer nobodys-token (well-formed, nobody's)",
    ),
    ("1219", "fault", "every emulated model is supported: a fault rule"),
    (
        "1220",
        "natural",
        "GET /devices/energy/dryer-offline/usage?property=energyUsage&period=DAILY&startDate=20241001&endDate=20241002: the dryer reports no energy",
    ),
    ("1221", "fault", "every emulated product is allowed for the key: a fault rule"),
    (
        "1222",
        "natural",
        "GET /devices/dryer-offline/state (or POST .../control): the dryer is offline; PATCH /devices/ID {\"online\": false} makes any appliance so",
    ),
    ("1223", "fault", "the emulated state is always valid: a fault rule"),
    (
        "1224",
        "natural",
        "GET /devices/bad%21id/state: a device id outside 1 to 128 of A-Za-z0-9._-",
    ),
    ("1225", "fault", "device ids are unique: a fault rule"),
    ("1301", "natural", "GET /devices with an x-service-key header (the partner API's key)"),
    ("1302", "natural", "GET /devices with Authorization: Bearer thinqpat-devfault-expired"),
    ("1303", "natural", "GET /devices with Authorization: Bearer thinqpat-devfault-deleted"),
    ("1304", "natural", "GET /devices with Authorization: Bearer thinqpat-devfault-terms"),
    ("1305", "natural", "PUT /devices (a known path with a method it does not take)"),
    (
        "1306",
        "natural",
        "PATCH /devices/thinq-cloud {\"rate_limit\": 1, \"rate_limit_code\": \"1306\"}, then two calls with one token",
    ),
    (
        "1307",
        "natural",
        "GET /devices with x-country: ZZ; or Host: api-eic.lgthinq.com with x-country: US",
    ),
    ("1308", "fault", "no ThinQ app holds control of an emulated appliance: a fault rule"),
    ("1309", "fault", "every API is allowed: a fault rule"),
    ("1310", "natural", "GET /devices with Host: api-xyz.lgthinq.com"),
    (
        "1311",
        "natural",
        "POST /devices/ac-living-room/control with a JSON body that is not an object ([1], \"on\")",
    ),
    (
        "1312",
        "natural",
        "POST /event/{id}/subscribe for more devices than the limit (PATCH /devices/thinq-cloud {\"event_subscription_limit\": 1}, then two devices)",
    ),
    (
        "1314",
        "natural",
        "more calls with one token than --thinq-rate-limit (default 3600) in an hour; PATCH /devices/thinq-cloud {\"rate_limit\": 1}, then two calls",
    ),
    ("2000", "fault", "the emulator has no internal failure to show: a fault rule"),
    ("2101", "fault", "every emulated model is supported: a fault rule"),
    (
        "2201",
        "fault",
        "the cloud issues MQTT client certificates: a fault rule (match path /client/certificate) shows a cloud that does not",
    ),
    ("2202", "fault", "every emulated product is supported: a fault rule"),
    ("2203", "fault", "every emulated model has its profile: a fault rule"),
    ("2205", "fault", "the emulated state is always readable: a fault rule"),
    (
        "2207",
        "natural",
        "POST /devices/ac-living-room/control {\"timer\":{\"absoluteHourToStart\":10}} (a property the profile does not define as writable)",
    ),
    ("2208", "fault", "emulated appliances carry out every valid command: a fault rule"),
    (
        "2209",
        "fault",
        "emulated appliances answer at once: a fault rule (add delay_ms for realism)",
    ),
    ("2210", "fault", "no status re-query is ever needed: a fault rule"),
    ("2212", "fault", "appliances are never syncing: a fault rule"),
    ("2213", "fault", "appliances never need re-registering: a fault rule"),
    ("2214", "fault", "no request fails without a reason: a fault rule"),
    (
        "2301",
        "natural",
        "POST /devices/washer-remote-off/control {\"location\":{\"locationName\":\"MAIN\"},\"operation\":{\"washerOperationMode\":\"START\"}}",
    ),
    (
        "2302",
        "natural",
        "POST /devices/washer-main/control {\"location\":{\"locationName\":\"MAIN\"},\"operation\":{\"washerOperationMode\":\"START\"}} twice: \"Command not supported in RUNNING\"",
    ),
    (
        "2303",
        "natural",
        "PATCH /devices/washer-main {\"runState\":{\"currentState\":\"ERROR\"}}, then any control command",
    ),
    (
        "2304",
        "natural",
        "POST /devices/ac-bedroom-off/control {\"airFlow\":{\"windStrength\":\"HIGH\"}}: \"Command not supported in POWER OFF\"",
    ),
    (
        "2305",
        "natural",
        "POST /devices/ac-living-room/control {\"airConJobMode\":{\"currentJobMode\":\"AIR_CLEAN\"}}, then {\"temperatureInUnits\":{\"coolTargetTemperature\":22,\"unit\":\"C\"}}: \"Command not supported in AIR_CLEAN\"",
    ),
];

/// The provocations of the cloud, in code order.
pub(crate) fn list() -> Vec<Provocation> {
    PROVOCATIONS
        .iter()
        .map(|(code, via, how)| Provocation {
            code: (*code).to_owned(),
            via,
            how: (*how).to_owned(),
            rule: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registry_code_has_exactly_one_provocation() {
        let listed = list();
        for entry in devfault_thinq::registry().entries() {
            let code = format!("{:04}", entry.code);
            let ways = listed.iter().filter(|p| p.code == code).count();
            assert_eq!(ways, 1, "{code}");
        }
        assert_eq!(listed.len(), devfault_thinq::registry().entries().len());
        assert!(listed.iter().all(|p| p.via == "natural" || p.via == "fault"));
    }
}
