//! A small JSON Schema validator for the subset `docs/status.schema.json` uses: `type`
//! (one or a list), `enum`, `const`, `required`, `properties`, `additionalProperties:
//! false`, `items`, `minimum`, `maximum` and local `$ref`s (`#/$defs/NAME`). Any other
//! keyword makes validation fail, so the schema cannot silently outgrow the validator.

use serde_json::Value;

const KNOWN: &[&str] = &[
    "$schema",
    "$id",
    "$defs",
    "title",
    "description",
    "type",
    "enum",
    "const",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minimum",
    "maximum",
    "$ref",
];

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        other => panic!("schema uses unknown type {other:?}"),
    }
}

/// Validate `v` against `schema` (whose root is `root`); the errors name the JSON path.
pub fn validate(root: &Value, schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    let s = schema.as_object().expect("a schema is an object");
    for k in s.keys() {
        assert!(KNOWN.contains(&k.as_str()), "validator lacks keyword {k:?}");
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").expect("local $ref");
        return validate(root, &root["$defs"][name], v, path, errors);
    }
    let mut fail = |m: String| errors.push(format!("{path}: {m}"));
    match s.get("type") {
        Some(Value::String(t)) if !type_ok(t, v) => return fail(format!("{v} is not {t}")),
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_ok(t.as_str().unwrap(), v)) => {
            return fail(format!("{v} is none of {ts:?}"))
        }
        _ => {}
    }
    if let Some(Value::Array(allowed)) = s.get("enum") {
        if !allowed.contains(v) {
            fail(format!("{v} not in {allowed:?}"));
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            fail(format!("{v} is not {c}"));
        }
    }
    if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if n < min {
            fail(format!("{n} < {min}"));
        }
    }
    if let (Some(max), Some(n)) = (s.get("maximum").and_then(Value::as_f64), v.as_f64()) {
        if n > max {
            fail(format!("{n} > {max}"));
        }
    }
    if let Some(obj) = v.as_object() {
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !obj.contains_key(r.as_str().unwrap()) {
                fail(format!("missing {r}"));
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => validate(root, ps, val, &format!("{path}.{k}"), errors),
                None if s.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{path}: unexpected field {k:?}"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            validate(root, items, item, &format!("{path}[{i}]"), errors);
        }
    }
}

/// The status schema shipped in the repository.
pub fn status_schema() -> Value {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/status.schema.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}
