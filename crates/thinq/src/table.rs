//! The ThinQ error-code table: every row of the "Error Code of ThinQ Connect APIs" table of
//! LG's "Common Response" page, in its order, with the class, retry advice and advice text
//! devfault assigns. Constant names are those of LG's SDK (`ThinQAPIErrorCodes` in
//! `thinqconnect` 1.0.14). Everything else in this crate is derived from here.
//!
//! Text is the page's cells: reason and message are both the Text cell (the cloud sends it as
//! `error.message`), trimmed of surrounding spaces and no-break spaces (HTML residue; 1214 and
//! 1222 end in one); a cell of several paragraphs (2212, 2213, 2302, 2305) is its paragraphs
//! joined with `\n`. No-break spaces inside a cell (1221, 2305) are kept as the page has them.
//!
//! Choices worth knowing (each is pinned by a test in `tests.rs`):
//! - Texts repeat (1205/1213, 1103/1218, 1219/2101, 1221/2202, and 1305/1309 up to case):
//!   they stay distinct codes, and a reverse lookup returns both.
//! - 0000 is `unknown`/`never` and lies outside every area: the rule table has no class for it.
//! - 1207 "Already subscribed push" is `already_exists`/`never`: the subscription the caller
//!   wants exists, so the advice says to treat it as success (Home Assistant does), and
//!   repeating the request is pointless.
//! - 1212 "Not owned device" is `permission`: the device exists but belongs to another user;
//!   the other "not registered" 12xx codes are `not_found`.
//! - 1223 and 2205 (device status invalid) are `server`/`back_off`: bad status data from the
//!   appliance or its parsing, not the caller's fault, and the next report may be fine.
//! - 1225 "Duplicate device Id" is `server`/`never`: an inconsistency in LG's data a caller
//!   cannot fix.
//! - 1304, 1305, 1307, 1309, 1310 are `permission`/`never`; 1308 (the ThinQ app holds control)
//!   is `permission`/`after_state_change`.
//! - 1312 (event-subscription device limit of the service key) is `rate_limit`/`never`: a
//!   quota that no time window resets; unsubscribing other devices frees it.
//! - 2208 "Fail device control" is `server`/`back_off` (read the state back first); 2214 "Fail
//!   Request" is `server`/`never`: it says nothing about being temporary (AIP-194).
//! - 2210 "Retry request" is `transient`/`back_off`, not `reissue_now`: it is not a normal
//!   flow like a long-poll timeout, and a tight loop could burn the per-user quota.
//! - 2212 "Syncing" is `transient`/`back_off`; 2213 is `device_state`/`after_state_change`:
//!   the appliance must be deleted and registered again first.
//! - 2302 and 2305 carry their placeholder (`(STATE)`, `(MODE)`) as a template, so a wire
//!   message such as "Command not supported in HEAT" finds them.
//! - HTTP statuses are the page's, odd ones included (1207 404, 1311 401, 1312 400, 1222 416,
//!   2101–2203 503).

use crate::Code;

devfault_core::code_table! {
    Code, DOCUMENTED;

    UNKNOWN_ERROR = 0000 in "error_codes" {
        reason: "Unknown error",
        message: "Unknown error",
        explanation: "Undefined error (the error to analyze)",
        http: 500,
        class: Unknown,
        retry: Never,
        advice: "An undefined error LG has yet to analyse: log the x-message-id and the body, do not loop on it, and report it to LG if it persists.",
        outside_areas: true,
    }
    BAD_REQUEST = 1000 in "error_codes" {
        reason: "Bad request",
        message: "Bad request",
        explanation: "Invalid request",
        http: 400,
        class: MalformedRequest,
        retry: Never,
        advice: "Check the method, path and JSON body against the ThinQ Connect API reference: the same request fails again.",
    }
    MISSING_PARAMETERS = 1101 in "error_codes" {
        reason: "Missing parameters",
        message: "Missing parameters",
        explanation: "Required input items are missing.",
        http: 400,
        class: MalformedRequest,
        retry: Never,
        advice: "Add the required path parameters and body fields the endpoint's schema lists, then send the corrected request.",
    }
    UNACCEPTABLE_PARAMETERS = 1102 in "error_codes" {
        reason: "Unacceptable parameters",
        message: "Unacceptable parameters",
        explanation: "Parameters that are not permitted have been entered.",
        http: 400,
        class: MalformedRequest,
        retry: Never,
        advice: "Drop the fields the endpoint does not accept and send only values the device profile (GET /devices/{deviceId}/profile) allows.",
    }
    INVALID_TOKEN = 1103 in "error_codes" {
        reason: "Invalid token",
        message: "Invalid token",
        explanation: "Token grammar is incorrect.",
        http: 400,
        class: Authentication,
        retry: Reauthenticate,
        advice: "Send Authorization: Bearer <PAT> with the token copied whole from connect-pat.lgthinq.com; a malformed token never passes.",
    }
    INVALID_MESSAGE_ID = 1104 in "error_codes" {
        reason: "Invalid message id",
        message: "Invalid message id",
        explanation: "Message ID grammar is incorrect.",
        http: 400,
        class: MalformedRequest,
        retry: Never,
        advice: "Send x-message-id as 22 url-safe base64 chars (a UUID v4, no padding), a new one for each request.",
    }
    NOT_REGISTERED_ADMIN = 1201 in "error_codes" {
        reason: "Not registered admin",
        message: "Not registered admin",
        explanation: "There is no registered administrator.",
        http: 404,
        class: NotFound,
        retry: Never,
        advice: "No administrator is registered for the service: the registration with LG is incomplete, and resending will not help.",
    }
    NOT_REGISTERED_USER = 1202 in "error_codes" {
        reason: "Not registered user",
        message: "Not registered user",
        explanation: "There is no registered user.",
        http: 404,
        class: NotFound,
        retry: Never,
        advice: "The user behind the token is not registered: check the PAT belongs to an active ThinQ account that has signed in to the ThinQ app.",
    }
    NOT_REGISTERED_SERVICE = 1203 in "error_codes" {
        reason: "Not registered service",
        message: "Not registered service",
        explanation: "There is no registered service.",
        http: 404,
        class: NotFound,
        retry: Never,
        advice: "The service is not registered: send the x-api-key LG publishes for ThinQ Connect, and check the host is the right api-{region}.lgthinq.com.",
    }
    NOT_SUBSCRIBED_EVENT = 1204 in "error_codes" {
        reason: "Not subscribed event",
        message: "Not subscribed event",
        explanation: "There is no subscribed event.",
        http: 404,
        class: NotFound,
        retry: Never,
        advice: "The device has no event subscription: subscribe with POST /event/{deviceId}/subscribe; treat an unsubscribe that gets this as done.",
    }
    NOT_EXIST_DEVICE = 1205 in "error_codes" {
        reason: "Not registered device",
        message: "Not registered device",
        explanation: "There is no registered device.",
        http: 404,
        class: NotFound,
        retry: Never,
        advice: "Use a deviceId from GET /devices; the appliance may have been removed from the account.",
    }
    NOT_SUBSCRIBED_PUSH = 1206 in "error_codes" {
        reason: "Not subscribed push",
        message: "Not subscribed push",
        explanation: "There is no subscribed push.",
        http: 404,
        class: NotFound,
        retry: Never,
        advice: "The device has no push subscription: subscribe with POST /push/{deviceId}/subscribe; treat an unsubscribe that gets this as done.",
    }
    ALREADY_SUBSCRIBED_PUSH = 1207 in "error_codes" {
        reason: "Already subscribed push",
        message: "Already subscribed push",
        explanation: "There is a subscribed push (an identical push already exists).",
        http: 404,
        class: AlreadyExists,
        retry: Never,
        advice: "The push subscription already exists: treat this as success (Home Assistant does) and do not subscribe again.",
    }
    NOT_REGISTERED_SERVICE_BY_ADMIN = 1208 in "error_codes" {
        reason: "Not registered service by admin",
        message: "Not registered service by admin",
        explanation: "The service is not managed by an administrator.",
        http: 404,
        class: NotFound,
        retry: Never,
        advice: "The service is not managed by an administrator: the registration with LG is incomplete, and resending will not help.",
    }
    NOT_REGISTERED_USER_IN_SERVICE = 1209 in "error_codes" {
        reason: "Not registered user in service",
        message: "Not registered user in service",
        explanation: "The user does not use the service.",
        http: 404,
        class: NotFound,
        retry: Never,
        advice: "The token's user does not use this service: use a PAT of an account registered with it.",
    }
    NOT_REGISTERED_DEVICE_IN_SERVICE = 1210 in "error_codes" {
        reason: "Not registered device in service",
        message: "Not registered device in service",
        explanation: "The device is not allowed by the service.",
        http: 404,
        class: NotFound,
        retry: Never,
        advice: "The service does not allow this device: use a deviceId from GET /devices made with the same token and x-api-key.",
    }
    NOT_REGISTERED_DEVICE_BY_USER = 1211 in "error_codes" {
        reason: "Not registered device by user",
        message: "Not registered device by user",
        explanation: "The device is not registered by the user.",
        http: 404,
        class: NotFound,
        retry: Never,
        advice: "Register the appliance in the ThinQ app under the token's account, then use its deviceId from GET /devices.",
    }
    NOT_OWNED_DEVICE = 1212 in "error_codes" {
        reason: "Not owned device",
        message: "Not owned device",
        explanation: "The device is not owned by the user.",
        http: 404,
        class: Permission,
        retry: Never,
        advice: "The appliance belongs to another account: use a PAT of its owner, or a deviceId from this account's GET /devices.",
    }
    NOT_REGISTERED_DEVICE = 1213 in "error_codes" {
        reason: "Not registered device",
        message: "Not registered device",
        explanation: "There is no registered device.",
        http: 404,
        class: NotFound,
        retry: Never,
        advice: "Use a deviceId from GET /devices; the appliance may have been removed from the account.",
    }
    NOT_SUBSCRIBABLE_DEVICE = 1214 in "error_codes" {
        reason: "Not subscribable device",
        message: "Not subscribable device",
        explanation: "The device does not allow the event subscription.",
        http: 404,
        class: Unsupported,
        retry: Never,
        advice: "This appliance offers no event subscription: poll GET /devices/{deviceId}/state instead (sparingly, calls are rate-limited).",
    }
    INCORRECT_HEADER = 1216 in "error_codes" {
        reason: "Incorrect Header",
        message: "Incorrect Header",
        explanation: "Values in the header are not correct.",
        http: 400,
        class: MalformedRequest,
        retry: Never,
        advice: "Check the headers: Authorization: Bearer <PAT>, x-message-id (22 url-safe chars), x-country, x-client-id and the published x-api-key.",
    }
    ALREADY_DEVICE_DELETED = 1217 in "error_codes" {
        reason: "Already device deleted",
        message: "Already device deleted",
        explanation: "The device is deleted.",
        http: 400,
        class: NotFound,
        retry: Never,
        advice: "The appliance was deleted from the account: drop its deviceId and refresh the list with GET /devices.",
    }
    INVALID_TOKEN_AGAIN = 1218 in "error_codes" {
        reason: "Invalid token",
        message: "Invalid token",
        explanation: "The token is not valid",
        http: 400,
        class: Authentication,
        retry: Reauthenticate,
        advice: "The PAT is not valid (revoked or mistyped): create a new one at connect-pat.lgthinq.com and send it as Authorization: Bearer <PAT>.",
    }
    NOT_SUPPORTED_MODEL = 1219 in "error_codes" {
        reason: "Not supported model",
        message: "Not supported model",
        explanation: "The product model is not supported.",
        http: 406,
        class: Unsupported,
        retry: Never,
        advice: "ThinQ Connect does not support this appliance model: leave it out; no request will change that.",
    }
    NOT_SUPPORTED_FEATURE = 1220 in "error_codes" {
        reason: "Not supported feature",
        message: "Not supported feature",
        explanation: "The feature is not supported. (The feature is not allowed for the product model.)",
        http: 406,
        class: Unsupported,
        retry: Never,
        advice: "This model does not allow the feature: use only what its profile (GET /devices/{deviceId}/profile) lists.",
    }
    NOT_SUPPORTED_PRODUCT = 1221 in "error_codes" {
        reason: "Not supported product",
        message: "Not supported product",
        explanation: "The\u{a0}device type\u{a0}is not supported. (The device type is not allowed for the service key.)",
        http: 406,
        class: Unsupported,
        retry: Never,
        advice: "The service key does not allow this device type: leave such appliances out.",
    }
    NOT_CONNECTED_DEVICE = 1222 in "error_codes" {
        reason: "Not connected device",
        message: "Not connected device",
        explanation: "The device is not connected.",
        http: 416,
        class: DeviceUnreachable,
        retry: AfterStateChange,
        advice: "The appliance is offline to LG's cloud: check its power and Wi-Fi; it answers 1222 until it reconnects, so retry after that.",
    }
    INVALID_STATUS_DEVICE = 1223 in "error_codes" {
        reason: "Invalid status device",
        message: "Invalid status device",
        explanation: "The device status values delivered are invalid.",
        http: 416,
        class: Server,
        retry: BackOff,
        advice: "The appliance reported unusable status values: retry after a back-off; if it persists, power-cycle the appliance.",
    }
    INVALID_DEVICE_ID = 1224 in "error_codes" {
        reason: "Invalid device Id",
        message: "Invalid device Id",
        explanation: "The device ID is not allowed.",
        http: 404,
        class: NotFound,
        retry: Never,
        advice: "Use a deviceId exactly as GET /devices returns it.",
    }
    DUPLICATE_DEVICE_ID = 1225 in "error_codes" {
        reason: "Duplicate device Id",
        message: "Duplicate device Id",
        explanation: "The same device ID exists for another device.",
        http: 404,
        class: Server,
        retry: Never,
        advice: "LG's cloud holds this deviceId for another device too: report it to LG with the x-message-id; resending will not help.",
    }
    INVALID_SERVICE_KEY = 1301 in "error_codes" {
        reason: "Invalid service key",
        message: "Invalid service key",
        explanation: "The service key is invalid.",
        http: 401,
        class: Authentication,
        retry: Reauthenticate,
        advice: "Send the x-api-key LG publishes for ThinQ Connect (a fixed value); a mistyped key keeps failing.",
    }
    NOT_FOUND_TOKEN = 1302 in "error_codes" {
        reason: "Not found token",
        message: "Not found token",
        explanation: "The token has not been issued.",
        http: 401,
        class: Authentication,
        retry: Reauthenticate,
        advice: "The PAT was never issued or has expired: create a new one at connect-pat.lgthinq.com and send it as Authorization: Bearer <PAT>.",
    }
    NOT_FOUND_USER = 1303 in "error_codes" {
        reason: "Not found user",
        message: "Not found user",
        explanation: "User of unissued token.",
        http: 401,
        class: Authentication,
        retry: Reauthenticate,
        advice: "No user holds this token: create a new PAT at connect-pat.lgthinq.com with the ThinQ account that owns the appliances.",
    }
    NOT_ACCEPTABLE_TERMS = 1304 in "error_codes" {
        reason: "Not acceptable terms",
        message: "Not acceptable terms",
        explanation: "The service terms are not accepted.",
        http: 401,
        class: Permission,
        retry: Never,
        advice: "Accept LG's service terms with the token's account (sign in to the ThinQ app or connect-pat.lgthinq.com), then call again.",
    }
    NOT_ALLOWED_API = 1305 in "error_codes" {
        reason: "Not allowed api",
        message: "Not allowed api",
        explanation: "The API is not allowed.",
        http: 401,
        class: Permission,
        retry: Never,
        advice: "This token may not call this endpoint: create a PAT with the needed permissions at connect-pat.lgthinq.com.",
    }
    EXCEEDED_API_CALLS = 1306 in "error_codes" {
        reason: "Exceeded API calls",
        message: "Exceeded API calls",
        explanation: "The number of API calls has been exceeded.",
        http: 401,
        class: RateLimit,
        retry: AfterQuotaReset,
        advice: "Stop calling until the quota window reopens (LG gives no figure); then poll less often and rely on MQTT events.",
    }
    NOT_SUPPORTED_COUNTRY = 1307 in "error_codes" {
        reason: "Not supported country",
        message: "Not supported country",
        explanation: "The country is not supported.",
        http: 401,
        class: Permission,
        retry: Never,
        advice: "Send x-country as the ISO 3166-1 alpha-2 code of the account's country, on that country's api-{region}.lgthinq.com host.",
    }
    NO_CONTROL_AUTHORITY = 1308 in "error_codes" {
        reason: "No control authority",
        message: "No control authority",
        explanation: "Unable to get the device control authority (The ThinQ App has the authority.)",
        http: 401,
        class: Permission,
        retry: AfterStateChange,
        advice: "The ThinQ app holds the appliance's control authority: retry once the app has released it (close the appliance in the app).",
    }
    NOT_ALLOWED_API_AGAIN = 1309 in "error_codes" {
        reason: "Not allowed API",
        message: "Not allowed API",
        explanation: "The user does NOT have permission on the API call (handling userFilter).",
        http: 401,
        class: Permission,
        retry: Never,
        advice: "The account may not make this call (LG's userFilter): drop the call or use a token of an account allowed to.",
    }
    NOT_SUPPORTED_DOMAIN = 1310 in "error_codes" {
        reason: "Not supported domain",
        message: "Not supported domain",
        explanation: "The unsupported domain is used.",
        http: 401,
        class: Permission,
        retry: Never,
        advice: "Call the regional host api-{region}.lgthinq.com (kic, aic or eic) that matches x-country, or the apiServer of GET /route.",
    }
    BAD_REQUEST_FORMAT = 1311 in "error_codes" {
        reason: "Bad request format",
        message: "Bad request format",
        explanation: "The request format is wrong.",
        http: 401,
        class: MalformedRequest,
        retry: Never,
        advice: "Send the body as JSON (Content-Type: application/json) in the endpoint's schema; the same body fails again.",
    }
    EXCEEDED_NUMBER_OF_EVENT_SUBSCRIPTION = 1312 in "error_codes" {
        reason: "Exceeded number of event subscription",
        message: "Exceeded number of event subscription",
        explanation: "Exceeds the number of event subscription devices set in the corresponding service key.",
        http: 400,
        class: RateLimit,
        retry: Never,
        advice: "The service key's limit of event-subscribed devices is reached: unsubscribe unneeded ones (DELETE /event/{deviceId}/unsubscribe) first.",
    }
    INTERNAL_SERVER_ERROR = 2000 in "error_codes" {
        reason: "Internal server error",
        message: "Internal server error",
        explanation: "Internal server error",
        http: 500,
        class: Server,
        retry: BackOff,
        advice: "LG's cloud failed: retry after an exponential back-off, and report the x-message-id to LG if it persists.",
    }
    NOT_SUPPORTED_MODEL_AGAIN = 2101 in "error_codes" {
        reason: "Not supported model",
        message: "Not supported model",
        explanation: "The appliance model is not supported.",
        http: 503,
        class: Unsupported,
        retry: Never,
        advice: "ThinQ Connect does not support this appliance model: leave it out; no request will change that.",
    }
    NOT_PROVIDED_FEATURE = 2201 in "error_codes" {
        reason: "Not provided feature",
        message: "Not provided feature",
        explanation: "The feature is not supported.",
        http: 503,
        class: Unsupported,
        retry: Never,
        advice: "The appliance does not provide this feature: use only what its profile (GET /devices/{deviceId}/profile) lists.",
    }
    NOT_SUPPORTED_PRODUCT_AGAIN = 2202 in "error_codes" {
        reason: "Not supported product",
        message: "Not supported product",
        explanation: "The product family is not supported.",
        http: 503,
        class: Unsupported,
        retry: Never,
        advice: "ThinQ Connect does not support this product family: leave such appliances out.",
    }
    NOT_EXISTENT_MODEL_JSON = 2203 in "error_codes" {
        reason: "Not existent model JSON",
        message: "Not existent model JSON",
        explanation: "The ModelJSON does not exist.",
        http: 503,
        class: Unsupported,
        retry: Never,
        advice: "LG has no ModelJSON for this model, so it cannot be read or controlled: leave it out; no request will change that.",
    }
    INVALID_DEVICE_STATUS = 2205 in "error_codes" {
        reason: "Invalid device status",
        message: "Invalid device status",
        explanation: "The device status data is not transmitted normally or the transmitted data is not parsed normally.",
        http: 400,
        class: Server,
        retry: BackOff,
        advice: "The appliance's status did not arrive or could not be parsed: retry after a back-off; if it persists, power-cycle the appliance.",
    }
    INVALID_COMMAND_ERROR = 2207 in "error_codes" {
        reason: "Invalid command error",
        message: "Invalid command error",
        explanation: "The control command is not invalid. (The control command contains undefined resources or properties.)",
        http: 400,
        class: MalformedRequest,
        retry: Never,
        advice: "Build the command only from resources and properties the profile (GET /devices/{deviceId}/profile) marks writable, with allowed values.",
    }
    FAIL_DEVICE_CONTROL = 2208 in "error_codes" {
        reason: "Fail device control",
        message: "Fail device control",
        explanation: "Failed to control the device.",
        http: 400,
        class: Server,
        retry: BackOff,
        advice: "The appliance did not carry out the command: read its state, and resend after a back-off only if it still differs.",
    }
    DEVICE_RESPONSE_DELAY = 2209 in "error_codes" {
        reason: "Device response delay",
        message: "Device response delay",
        explanation: "The response from the device is being delayed.",
        http: 400,
        class: Transient,
        retry: BackOff,
        advice: "The appliance is slow to answer: read its state before resending, then retry after a back-off.",
    }
    RETRY_REQUEST = 2210 in "error_codes" {
        reason: "Retry request",
        message: "Retry request",
        explanation: "Retry the request.",
        http: 400,
        class: Transient,
        retry: BackOff,
        advice: "LG asks for the request again: resend it after a short back-off, not in a tight loop.",
    }
    SYNCING = 2212 in "error_codes" {
        reason: "Syncing",
        message: "Syncing",
        explanation: "Synchronizing the ModelJSON is in progress.\n(Air solution products)",
        http: 412,
        class: Transient,
        retry: BackOff,
        advice: "LG is still synchronising this air-solution appliance's ModelJSON: retry after a back-off.",
    }
    RETRY_AFTER_DELETING_DEVICE = 2213 in "error_codes" {
        reason: "Retry after deleting device",
        message: "Retry after deleting device",
        explanation: "Failed to synchronize the ModelJSON. Retry it after deleting the device.\n(Air solution products)",
        http: 412,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "ModelJSON sync failed: delete the appliance in the ThinQ app, register it again, then retry with the deviceId from GET /devices.",
    }
    FAIL_REQUEST = 2214 in "error_codes" {
        reason: "Fail Request",
        message: "Fail Request",
        explanation: "Failed to request.",
        http: 400,
        class: Server,
        retry: Never,
        advice: "LG could not carry out the request and says no more: log the x-message-id, check the request against its schema, and do not loop on it.",
    }
    COMMAND_NOT_SUPPORTED_IN_REMOTE_OFF = 2301 in "error_codes" {
        reason: "Command not supported in REMOTE OFF",
        message: "Command not supported in REMOTE OFF",
        explanation: "The device does not support control command. (If the remoteControl is false)",
        http: 400,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "Enable remote control on the appliance itself (its remote-start / Wi-Fi control button), then resend the command.",
    }
    COMMAND_NOT_SUPPORTED_IN_STATE = 2302 in "error_codes" {
        reason: "Command not supported in (STATE)",
        message: "Command not supported in (STATE)",
        explanation: "In the state, the control command is not supported.\n• e.g. \"Command not supported in HEAT (2302)\"",
        http: 400,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "The state the message names refuses this command: read the state first; a power-on refused in POWER_ON means it is already on.",
        template: "(STATE)",
    }
    COMMAND_NOT_SUPPORTED_IN_ERROR = 2303 in "error_codes" {
        reason: "Command not supported in ERROR",
        message: "Command not supported in ERROR",
        explanation: "The control command cannot be processed because the device is in an error state.",
        http: 400,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "The appliance is in an error state: clear the error on the appliance (see its display or the ThinQ app), then resend.",
    }
    COMMAND_NOT_SUPPORTED_IN_POWER_OFF = 2304 in "error_codes" {
        reason: "Command not supported in POWER OFF",
        message: "Command not supported in POWER OFF",
        explanation: "The control command cannot be processed because the device is powered off.",
        http: 400,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "Power the appliance on first (a power-on command alone), then resend; a power-off refused with 2304 means it is already off.",
    }
    COMMAND_NOT_SUPPORTED_IN_MODE = 2305 in "error_codes" {
        reason: "Command not supported in (MODE)",
        message: "Command not supported in (MODE)",
        explanation: "In the mode, the control command is not supported.\n• e.g.\u{a0}\"Command not supported in STANDBY (2305)\"",
        http: 400,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "The mode the message names refuses this command: change the mode first, or send only what that mode allows.",
        template: "(MODE)",
    }
}

// Rows the live cloud sends that the page does not list.
devfault_core::observed_table! {
    OBSERVED;

    1314 in "observed" {
        reason: "Exceeded User API calls",
        message: "Exceeded User API calls",
        explanation: "The live cloud's per-user rate limit: too many calls by one user within an hour (LG gives no figure). Neither the Common Response page nor LG's SDK lists it; the SDK reports it as UNKNOWN_ERROR.",
        http: 401,
        class: RateLimit,
        retry: AfterQuotaReset,
        advice: "Stop calling for a while (LG limits calls per user per hour, no figure given), then poll less often and rely on MQTT events.",
        evidence: "live cloud bodies quoted in third-party projects; pythinqconnect#14; LG's HACS integration has EXCEEDED_USER_API_CALLS = \"1314\"",
    }
}
