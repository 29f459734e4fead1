//! The BRAVIA error-code table: every row of Sony's "Error Code" page, in its order, with the
//! class, retry advice and advice text devfault assigns. Text is the page's, except that
//! typographic apostrophes are ASCII `'`. Everything else in this crate is derived from here.
//!
//! Choices worth knowing (each is pinned by a test in `lib.rs`):
//! - JSON-RPC-level codes travel with HTTP 200: the page says "Should not map others to HTTP
//!   errors forcibly", and only the HTTP major codes carry their own status.
//! - 404 is `never`: the page defines it as "not matched to any supported API version". The
//!   20–30 s 404 window of a restarting web service is mentioned in the advice instead.
//! - 40801 is `malformed_request`: the value is outside the target's range, and sending it
//!   again fails again.

use crate::Code;

devfault_core::code_table! {
    Code, DOCUMENTED;

    UNAUTHORIZED = 401 in "http" {
        reason: "Unauthorized",
        message: "Unauthorized",
        explanation: "Request requires user authentication.",
        http: 401,
        class: Authentication,
        retry: Reauthenticate,
        advice: "Send the display's pre-shared key in X-Auth-PSK, or register with accessControl.actRegister (PIN) and send the auth cookie.",
    }
    FORBIDDEN = 403 in "http" {
        reason: "Forbidden",
        message: "Forbidden",
        explanation: "Server understood the request, but is refusing to fulfill it. The client does not have permission to access.",
        http: 403,
        class: Permission,
        retry: Reauthenticate,
        advice: "Check that X-Auth-PSK matches the display's pre-shared key (or that the auth cookie is still valid); right after an AC power cycle retry once before asking for new credentials.",
    }
    NOT_FOUND = 404 in "http" {
        reason: "Not Found",
        message: "Not Found",
        explanation: "For cases where the request is not matched to any supported API version.",
        http: 404,
        class: NotFound,
        retry: Never,
        advice: "Check the URL is /sony/<service> with no trailing slash and a service from guide.getSupportedApiInfo; a URL that worked before may 404 for 20-30 s while the display's web service restarts.",
    }
    REQUEST_ENTITY_TOO_LARGE = 413 in "http" {
        reason: "Request Entity Too Large",
        message: "Request Entity Too Large",
        explanation: "The accepted body size of the client request exceeds the maximum limit.",
        http: 413,
        class: MalformedRequest,
        retry: Never,
        advice: "Send a smaller request body; the display's limit is its own, so split large requests.",
    }
    REQUEST_URI_TOO_LONG = 414 in "http" {
        reason: "Request-URI Too Long",
        message: "Request-URI Too Long",
        explanation: "The accepted URI length of the client request exceeds the maximum limit.",
        http: 414,
        class: MalformedRequest,
        retry: Never,
        advice: "Shorten the URI: parameters belong in the POST body, the path is only /sony/<service>.",
    }
    NOT_IMPLEMENTED = 501 in "http" {
        reason: "Not Implemented",
        message: "Not Implemented",
        explanation: "When the request method is not implemented on the server.",
        http: 501,
        class: Unsupported,
        retry: Never,
        advice: "Use HTTP POST: the REST API accepts no other method.",
    }
    SERVICE_UNAVAILABLE = 503 in "http" {
        reason: "Service Unavailable",
        message: "Service Unavailable",
        explanation: "When the server is in a temporarily unavailable state which may occur due to other concurrent connections. (The number of maximum connections is not defined because it depends on the server.)",
        http: 503,
        class: Transient,
        retry: BackOff,
        advice: "The display is busy with other connections: retry after a back-off (honour Retry-After) and keep fewer connections open.",
    }

    ANY = 1 in "system" {
        reason: "Any",
        message: "Any",
        explanation: "A generic error code which can be used with any error.",
        http: 200,
        class: Unknown,
        retry: Never,
        advice: "A generic failure: log the message, check the request against the method's specification, and do not loop on it.",
    }
    TIMEOUT = 2 in "system" {
        reason: "Timeout",
        message: "Timeout",
        explanation: "For cases when the server cannot reply in time.",
        http: 200,
        class: Transient,
        retry: BackOff,
        advice: "The display could not answer in time: retry after a back-off.",
    }
    ILLEGAL_ARGUMENT = 3 in "system" {
        reason: "Illegal Argument",
        message: "Illegal Argument",
        explanation: "For cases when the “params” value in the request does not follow API specifications.",
        http: 200,
        class: MalformedRequest,
        retry: Never,
        advice: "Fix the params to match the method's specification (types, allowed values, target and source names).",
    }
    ILLEGAL_REQUEST = 5 in "system" {
        reason: "Illegal Request",
        message: "Illegal Request",
        explanation: "For cases when the request body is empty, has no ID or has an invalid ID, has no method, has no params, or the params is not an array.",
        http: 200,
        class: MalformedRequest,
        retry: Never,
        advice: "Send a JSON body with method, an integer id, params as an array and version: this is a client bug.",
    }
    ILLEGAL_STATE = 7 in "system" {
        reason: "Illegal State",
        message: "Illegal State",
        explanation: "For cases when the server cannot handle the request at this time.",
        http: 200,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "The display cannot do this now (often standby, or an app is shown for getPlayingContentInfo): check getPowerStatus and retry after the state changes.",
    }
    NO_SUCH_METHOD = 12 in "system" {
        reason: "No Such Method",
        message: "No Such Method",
        explanation: "For cases when the requested API does not exist.",
        http: 200,
        class: Unsupported,
        retry: Never,
        advice: "The service has no such method on this display: check guide.getSupportedApiInfo and the service the method belongs to.",
    }
    UNSUPPORTED_VERSION = 14 in "system" {
        reason: "Unsupported Version",
        message: "Unsupported Version",
        explanation: "For cases when the requested version is not supported on the specified service.",
        http: 200,
        class: Unsupported,
        retry: Never,
        advice: "Call a version that guide.getSupportedApiInfo lists for this method.",
    }
    UNSUPPORTED_OPERATION = 15 in "system" {
        reason: "Unsupported Operation",
        message: "Unsupported Operation",
        explanation: "For cases when the server cannot handle the request with respect to the specified parameters.",
        http: 200,
        class: Unsupported,
        retry: Never,
        advice: "The display cannot do this with these parameters: use other parameters the method documents.",
    }

    REQUEST_RETRY = 40000 in "common" {
        reason: "Request Retry",
        message: "Request Retry",
        explanation: "Long Polling timeout happens.",
        http: 200,
        class: Transient,
        retry: ReissueNow,
        advice: "The long poll ended with nothing to report: re-issue the same request at once.",
    }
    CLIENT_OVER_MAXIMUM = 40001 in "common" {
        reason: "Client Over Maximum",
        message: "Clients Over Maximum",
        explanation: "The number of Long Polling clients exceeds the maximum limit.",
        http: 200,
        class: RateLimit,
        retry: BackOff,
        advice: "Too many long-polling clients: stop other pollers of this display, or retry after a back-off.",
    }
    ENCRYPTION_FAILED = 40002 in "common" {
        reason: "Encryption Failed",
        message: "Encryption Failed",
        explanation: "Encryption error. Failed to encrypt/decrypt in the encryption API.",
        http: 200,
        class: MalformedRequest,
        retry: Never,
        advice: "Fetch encryption.getPublicKey again, make a new AES common key (encKey) and resend; the same key fails again.",
    }
    REQUEST_DUPLICATED = 40003 in "common" {
        reason: "Request Duplicated",
        message: "Request Duplicated",
        explanation: "Client must wait for the previous response.",
        http: 200,
        class: Busy,
        retry: AfterPrevious,
        advice: "An identical request is still being processed: wait for its answer, then send again only if still needed.",
    }
    MULTIPLE_SETTINGS_FAILED = 40004 in "common" {
        reason: "Multiple Settings Failed",
        message: "Multiple Settings Failed",
        explanation: "One or more settings are not set by error when multiple settings are set. The client needs to call paired APIs (getXXXSettings) to identify which parameters failed to be updated.",
        http: 200,
        class: PartialFailure,
        retry: Never,
        advice: "Call the paired getter (getXXXSettings) to see which settings were not applied, then set only those.",
    }
    DISPLAY_IS_TURNED_OFF = 40005 in "common" {
        reason: "Display is turned off",
        message: "Display is turned off",
        explanation: "Display is turned off.",
        http: 200,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "Turn the display on (system.setPowerStatus with status true, or IRCC PowerOn), then retry; getPowerStatus still answers in standby.",
    }
    PLEASE_CONTACT_THE_INQUIRY_COUNTER = 40006 in "common" {
        reason: "Please contact the inquiry counter",
        message: "Exxxx",
        explanation: "A common error code used among services to be used for general errors. This error code can be used only to identify general errors, but has different messages (like error codes) in “error_message” just for debugging or display purposes.",
        http: 200,
        class: Server,
        retry: Never,
        advice: "A device fault: note the E-code in the message and contact Sony support.",
    }

    PASSWORD_EXPIRED = 40200 in "system_service" {
        reason: "Password expired",
        message: "Password expired",
        explanation: "Password is expired.",
        http: 200,
        class: Authentication,
        retry: Reauthenticate,
        advice: "Set a new password on the display, then authenticate again.",
    }
    AC_POWER_REQUIRED = 40201 in "system_service" {
        reason: "AC power required",
        message: "AC power required",
        explanation: "Server cannot run this method without AC power.",
        http: 200,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "Connect the display to AC power, then retry.",
    }

    SCREEN_CHANGE_IN_PROGRESS = 40600 in "video_screen" {
        reason: "Screen Change in Progress",
        message: "Screen Change in Progress",
        explanation: "Another request is in progress.",
        http: 200,
        class: Busy,
        retry: AfterPrevious,
        advice: "Another screen change is running: retry once it has completed.",
    }

    TARGET_NOT_SUPPORTED = 40800 in "audio" {
        reason: "Target Not Supported",
        message: "Target Not Supported",
        explanation: "Target is not supported or cannot be controlled for some device specific reason.",
        http: 200,
        class: Unsupported,
        retry: Never,
        advice: "Use a target that audio.getVolumeInformation lists (speaker, headphone...).",
    }
    VOLUME_OUT_OF_RANGE = 40801 in "audio" {
        reason: "Volume Out of Range",
        message: "Volume Out of Range",
        explanation: "Volume is out of range.",
        http: 200,
        class: MalformedRequest,
        retry: Never,
        advice: "Keep the volume within minVolume-maxVolume from audio.getVolumeInformation for that target; the same value fails again.",
    }

    CONTENT_IS_PROTECTED = 41000 in "av_content" {
        reason: "Content is Protected",
        message: "Content is Protected",
        explanation: "Content is protected.",
        http: 200,
        class: Content,
        retry: Never,
        advice: "The content is protected against this operation: choose other content.",
    }
    CONTENT_DOES_NOT_EXIST = 41001 in "av_content" {
        reason: "Content does Not Exist",
        message: "Content does Not Exist",
        explanation: "Content does not exist.",
        http: 200,
        class: NotFound,
        retry: Never,
        advice: "Use a URI from avContent.getContentList or getSourceList; the content may have been removed.",
    }
    STORAGE_HAS_NO_CONTENT = 41002 in "av_content" {
        reason: "Storage has no content.",
        message: "Storage has no content.",
        explanation: "Storage has no content.",
        http: 200,
        class: Content,
        retry: Never,
        advice: "The storage holds no content: there is nothing to list or play.",
    }
    SOME_CONTENT_COULD_NOT_BE_DELETED = 41003 in "av_content" {
        reason: "Some content could not be deleted",
        message: "Some content could not be deleted",
        explanation: "Some content could not be deleted.",
        http: 200,
        class: PartialFailure,
        retry: Never,
        advice: "List the content again to see what remains, and delete those items one by one.",
    }
    CHANNEL_FIXED_BY_USB_RECORDING = 41011 in "av_content" {
        reason: "Channel Fixed by USB Recording",
        message: "Channel Fixed by USB Recording",
        explanation: "Channel is fixed by USB recording.",
        http: 200,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "A USB recording holds the channel: retry after the recording ends.",
    }
    CHANNEL_FIXED_BY_SCART_RECORDING = 41012 in "av_content" {
        reason: "Channel Fixed by SCART Recording",
        message: "Channel Fixed by SCART Recording",
        explanation: "Channel is fixed by SCART recording.",
        http: 200,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "A SCART recording holds the channel: retry after the recording ends.",
    }
    CHAPTER_DOESNT_EXIST = 41013 in "av_content" {
        reason: "Chapter doesn't exist",
        message: "Chapter doesn't exist",
        explanation: "Chapter doesn't exist.",
        http: 200,
        class: NotFound,
        retry: Never,
        advice: "Use a chapter the content has.",
    }
    CHANNEL_CANT_BE_UNIQUELY_DETERMINED = 41014 in "av_content" {
        reason: "Channel can't be uniquely determind.",
        message: "Channel can't be uniquely determind",
        explanation: "Channel can't be uniquely determined.",
        http: 200,
        class: MalformedRequest,
        retry: Never,
        advice: "Name the channel unambiguously: use its full URI from avContent.getContentList.",
    }
    EMPTY_CHANNEL_LIST = 41015 in "av_content" {
        reason: "Empty Channel list.",
        message: "Empty Channel list",
        explanation: "Empty channel list.",
        http: 200,
        class: Content,
        retry: AfterStateChange,
        advice: "The display has no channels: run a channel scan on it, then retry.",
    }
    STORAGE_DOESNT_EXIST = 41020 in "av_content" {
        reason: "Storage doesn't exist",
        message: "Storage doesn't exist",
        explanation: "Storage doesn't exist.",
        http: 200,
        class: NotFound,
        retry: Never,
        advice: "Use a storage from avContent.getSourceList; removable storage may have been unplugged.",
    }
    STORAGE_IS_FULL = 41021 in "av_content" {
        reason: "Storage is full",
        message: "Storage is full",
        explanation: "Storage is full.",
        http: 200,
        class: Content,
        retry: AfterStateChange,
        advice: "Free space on the storage, then retry.",
    }
    CONTENT_ATTRIBUTE_SETTING_FAILED = 41022 in "av_content" {
        reason: "Content attribute setting failed.",
        message: "Content attribute setting failed.",
        explanation: "Content attribute setting failed.",
        http: 200,
        class: Content,
        retry: Never,
        advice: "The display refused the attribute change: read the content's attributes back before trying another value.",
    }
    UNKNOWN_GROUP_ID = 41023 in "av_content" {
        reason: "Unknown group id.",
        message: "Unknown group id.",
        explanation: "Unknown group ID.",
        http: 200,
        class: NotFound,
        retry: Never,
        advice: "Use a group id the display lists.",
    }
    CONTENT_IS_NOT_SUPPORTED = 41024 in "av_content" {
        reason: "Content is not supported.",
        message: "Unsupported content",
        explanation: "Content is not supported.",
        http: 200,
        class: Unsupported,
        retry: Never,
        advice: "The display cannot handle this content type: choose other content.",
    }

    ANOTHER_REQUEST_IN_PROGRESS = 41400 in "app_control" {
        reason: "Another Request in Progress",
        message: "Another Request in Progress",
        explanation: "Another request is in progress.",
        http: 200,
        class: Busy,
        retry: AfterPrevious,
        advice: "Another app request is running: retry once it has finished.",
    }
    FAILED_TO_LAUNCH = 41401 in "app_control" {
        reason: "Failed to Launch",
        message: "Failed to Launch",
        explanation: "Failed to launch, for example, because another application is running.",
        http: 200,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "Close the running application (appControl.terminateApps) and check the URI is from getApplicationList, then launch again.",
    }
    REQUEST_IN_PROGRESS = 41402 in "app_control" {
        reason: "Request In Progress",
        message: "Request In Progress",
        explanation: "Request is accepted, but completion of the application's launch cannot be decided.",
        http: 200,
        class: Pending,
        retry: Never,
        advice: "The launch was accepted: do not send it again; check the active app later.",
    }
    FAILED_TO_TERMINATE = 41403 in "app_control" {
        reason: "Failed to Terminate",
        message: "Failed to Terminate",
        explanation: "Some applications can't be terminated.",
        http: 200,
        class: PartialFailure,
        retry: Never,
        advice: "Some applications refused to close; the others were terminated. Usually safe to ignore.",
    }

    KEY_DOESNT_EXIST = 42400 in "encryption" {
        reason: "Key doesn't exist",
        message: "Key doesn't exist",
        explanation: "Key doesn't exist yet.",
        http: 200,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "The display has no key pair yet: send no encrypted requests until encryption.getPublicKey succeeds.",
    }
}

// Rows real displays send that the page does not list: other messages for documented codes.
devfault_core::observed_table! {
    OBSERVED;

    7 in "observed" {
        reason: "Illegal State",
        message: "not power-on",
        explanation: "Sent instead of \"Illegal State\" by consumer Android displays in standby, for most methods other than getPowerStatus (actRegister, getRemoteControllerInfo, setPlayContent, getSourceList...).",
        http: 200,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "The display is in standby: power it on (system.setPowerStatus with status true), then retry.",
        evidence: "home-assistant/core#78874 and many standby reports; pybravia raises BraviaTurnedOff only for this exact message",
    }
    40005 in "observed" {
        reason: "Display is turned off",
        message: "Display Is Turned off",
        explanation: "The spelling (capital I) some real displays send for 40005 while the display is off.",
        http: 200,
        class: DeviceState,
        retry: AfterStateChange,
        advice: "Turn the display on (system.setPowerStatus with status true, or IRCC PowerOn), then retry.",
        evidence: "antonioparraga/braviarc#20, home-assistant/core#5014",
    }
    5 in "observed" {
        reason: "Illegal Request",
        message: "Illegal JSON",
        explanation: "Sony's firmware names code 5 \"Illegal JSON\"; displays send it for a body that is not valid JSON.",
        http: 200,
        class: MalformedRequest,
        retry: Never,
        advice: "Send a valid JSON body with method, id, params (an array) and version.",
        evidence: "Sony firmware class com.sony.dtv.b2b.prosettings.WebApiErrorHandler",
    }
    3 in "observed" {
        reason: "Illegal Argument",
        message: "source is invalid",
        explanation: "Sent by avContent methods for a source URI the display does not have.",
        http: 200,
        class: MalformedRequest,
        retry: Never,
        advice: "Use a source URI from avContent.getSourceList.",
        evidence: "normen/homebridge-bravia#9",
    }
}
