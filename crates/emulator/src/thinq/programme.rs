//! Appliances that run: a washer or dryer started by a control command runs its programme,
//! its run state and remaining time advancing one simulated minute per tick of a clock that
//! `--thinq-time-scale` speeds up. Each tick writes the appliance's real state (so the REST
//! `GET /devices/{id}/state` always agrees with the events) and so publishes a `DEVICE_STATUS`;
//! the last step, `END`, also publishes the type's completion push (`WASHING_IS_COMPLETE`).
//! Any other change of the state (a STOP command, an admin PATCH, a reset) stops the clock.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::Appliance;
use super::mqtt::events;

/// The programme of each type that runs one: its phases (run state, simulated minutes), after
/// which the run state is `END`. Each state is one the type's profile lists (a unit test
/// checks).
pub(crate) const PROGRAMMES: &[(&str, &[(&str, u32)])] = &[
    ("DEVICE_WASHER", &[("RUNNING", 20), ("RINSING", 10), ("SPINNING", 10)]),
    ("DEVICE_DRYER", &[("RUNNING", 40), ("COOLING", 10)]),
];

/// The largest time scale: a simulated minute lasts a millisecond.
pub const MAX_TIME_SCALE: u32 = 60_000;

fn programme_of(device_type: &str) -> Option<&'static [(&'static str, u32)]> {
    PROGRAMMES.iter().find(|(t, _)| *t == device_type).map(|(_, steps)| *steps)
}

/// The run state and remaining minutes `elapsed` minutes into `steps`.
fn at(steps: &[(&'static str, u32)], elapsed: u32) -> (&'static str, u32) {
    let total: u32 = steps.iter().map(|(_, minutes)| minutes).sum();
    let mut start = 0;
    for (state, minutes) in steps {
        if elapsed < start + minutes {
            return (state, total - elapsed);
        }
        start += minutes;
    }
    ("END", 0)
}

/// Starts the programme of `appliance` if a command just set it running (its run state is
/// `RUNNING`) and its type has one. Without a Tokio runtime (a unit test calling the router
/// synchronously) nothing runs.
pub(crate) fn start_if_running(appliance: &Arc<Appliance>, time_scale: u32) {
    let Some(steps) = programme_of(appliance.kind.device_type) else { return };
    let Some(place) = appliance.kind.run_state else { return };
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    let generation = {
        let live = appliance.lock();
        if !events::run_states(live.state(), place).iter().any(|s| s == "RUNNING") {
            return;
        }
        live.programme
    };
    let total: u32 = steps.iter().map(|(_, minutes)| minutes).sum();
    if !step(appliance, generation, steps[0].0, total, total) {
        return;
    }
    let minute = Duration::from_secs(60) / time_scale.clamp(1, MAX_TIME_SCALE);
    let weak = Arc::downgrade(appliance);
    runtime.spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + minute, minute);
        for elapsed in 1..=total {
            ticks.tick().await;
            let Some(appliance) = weak.upgrade() else { return };
            let (state, remaining) = at(steps, elapsed);
            if !step(&appliance, generation, state, remaining, total) {
                return;
            }
        }
    });
}

/// Writes one step into the appliance's state (publishing what changed); false when the
/// programme was interrupted since it started.
fn step(appliance: &Appliance, generation: u64, state: &str, remaining: u32, total: u32) -> bool {
    let mut live = appliance.lock();
    if live.programme != generation {
        return false;
    }
    let before = Arc::clone(&live.state);
    let patch = json!({
        "runState": {"currentState": state},
        "timer": {
            "remainHour": remaining / 60,
            "remainMinute": remaining % 60,
            "totalHour": total / 60,
            "totalMinute": total % 60,
        }
    });
    super::kinds::merge_state(live.state_mut(), &patch);
    appliance.publish_changes(&before.value, &live);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thinq::kinds;

    #[test]
    fn every_phase_is_a_run_state_of_its_profile() {
        for (device_type, steps) in PROGRAMMES {
            let kind = kinds::by_type(device_type).expect("an emulated type");
            let profile = kind.profile["property"].to_string();
            for (state, _) in steps.iter().chain([&("END", 0)]) {
                assert!(profile.contains(&format!("\"{state}\"")), "{device_type}: {state}");
            }
        }
    }

    #[test]
    fn the_clock_walks_the_phases_to_the_end() {
        let steps = programme_of("DEVICE_WASHER").expect("a washer programme");
        assert_eq!(at(steps, 0), ("RUNNING", 40));
        assert_eq!(at(steps, 19), ("RUNNING", 21));
        assert_eq!(at(steps, 20), ("RINSING", 20));
        assert_eq!(at(steps, 35), ("SPINNING", 5));
        assert_eq!(at(steps, 40), ("END", 0));
    }
}
