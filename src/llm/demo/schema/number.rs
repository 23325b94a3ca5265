//! Numbers for the demo's structured answers: within every bound a schema sets.

use serde_json::{Map, Value};

/// A number within the bounds (inclusive or exclusive, draft 4's boolean form too) and
/// a multiple of `multipleOf`: 3 (an integer) or 2.5 when that fits, else one in the
/// middle or near an end of the range. Items of a list step away from it in turn, so
/// that `uniqueItems` holds where the range allows.
pub(super) fn number(schema: &Map<String, Value>, integer: bool, variant: usize) -> Value {
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    let open = |key: &str| schema.get(key).and_then(Value::as_bool).unwrap_or(false);
    let mut low = bound("minimum").map(|low| (low, open("exclusiveMinimum")));
    if let Some(exclusive) = bound("exclusiveMinimum")
        && low.is_none_or(|(low, _)| exclusive >= low)
    {
        low = Some((exclusive, true));
    }
    let mut high = bound("maximum").map(|high| (high, open("exclusiveMaximum")));
    if let Some(exclusive) = bound("exclusiveMaximum")
        && high.is_none_or(|(high, _)| exclusive <= high)
    {
        high = Some((exclusive, true));
    }
    let step = bound("multipleOf").filter(|step| *step > 0.0 && step.is_finite());
    let fits = |value: f64| {
        low.is_none_or(|(low, open)| if open { value > low } else { value >= low })
            && high.is_none_or(|(high, open)| if open { value < high } else { value <= high })
            && (!integer || value.fract() == 0.0)
            && step.is_none_or(|step| {
                let times = value / step;
                (times - times.round()).abs() < 1e-9
            })
    };
    // The value and its neighbours on the integers and on the steps.
    let snapped = |value: f64| {
        let mut around = vec![value];
        if integer {
            around.extend([value.floor(), value.ceil()]);
        }
        if let Some(step) = step {
            let times = (value / step).floor();
            // Rounded as a person writes it: 0.1 × 3 is 0.3, not 0.30000000000000004.
            around.extend([times, times + 1.0].map(|times| ((times * step) * 1e9).round() / 1e9));
        }
        around
    };
    let first = if integer { 3.0 } else { 2.5 };
    let mut near = vec![first];
    match (low, high) {
        (Some((low, _)), Some((high, _))) => near.extend([(low + high) / 2.0, low, high]),
        (Some((low, _)), None) => near.extend([low, low + 1.0]),
        (None, Some((high, _))) => near.extend([high, high - 1.0]),
        (None, None) => {}
    }
    let anchor = near
        .into_iter()
        .flat_map(snapped)
        .find(|value| fits(*value))
        .unwrap_or(first);
    let away = variant.saturating_sub(1) as f64;
    let unit = match (step, low, high) {
        (Some(step), _, _) => step.max(if integer { 1.0 } else { 0.0 }),
        (None, _, _) if integer => 1.0,
        (None, Some((low, _)), Some((high, _))) => (high - low) / 8.0,
        (None, _, _) => 1.0,
    };
    let value = [anchor + away * unit, anchor - away * unit]
        .into_iter()
        .flat_map(snapped)
        .find(|value| fits(*value))
        .unwrap_or(anchor);
    if integer {
        Value::from(value as i64)
    } else {
        Value::from(value)
    }
}
