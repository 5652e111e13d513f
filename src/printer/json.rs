//! The JSON rendering of a plan (`--json`), schema in
//! `schemas/plan.schema.json`. Holds no secret: actions carry their kind,
//! target, reason and diff, never a key.

use serde_json::{Value, json};

use crate::plan::Plan;

pub const FORMAT_VERSION: u32 = 1;

pub fn plan_value(plan: &Plan) -> Value {
    json!({
        "format_version": FORMAT_VERSION,
        "changes": plan.has_changes(),
        "offline": plan.offline,
        "actions": plan.actions.iter().map(|a| {
            let mut v = json!({
                "id": a.id,
                "kind": a.kind,
                "target": a.target,
                "destructive": a.destructive,
                "depends_on": a.depends_on,
                "reason": a.reason,
            });
            if let Some(d) = a.diff() {
                v["diff"] = Value::String(d.into_owned());
            }
            v
        }).collect::<Vec<_>>(),
        "blocked": plan.blocked,
        "drift": plan.drift,
        "notes": plan.notes,
    })
}

pub fn to_pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}
