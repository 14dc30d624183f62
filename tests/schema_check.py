"""Validate JSON documents against docs/status.schema.json.

A small validator for the subset of JSON Schema the status schema uses (the same subset as
cli/tests/common/schema.rs): type, enum, const, required, properties,
additionalProperties: false, items, minimum, maximum, local $ref. Any other keyword is an
error, so the schema cannot outgrow the validator unnoticed.
Usage: python3 tests/schema_check.py SCHEMA FILE...
"""
import json
import sys

KNOWN = {"$schema", "$id", "$defs", "title", "description", "type", "enum", "const",
         "required", "properties", "additionalProperties", "items", "minimum", "maximum", "$ref"}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def validate(root, schema, v, path, errors):
    unknown = set(schema) - KNOWN
    if unknown:
        raise SystemExit(f"validator lacks keywords {sorted(unknown)}")
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return validate(root, root["$defs"][name], v, path, errors)
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(TYPES[t](v) for t in types):
            errors.append(f"{path}: {v!r} is none of {types}")
            return
    if "enum" in schema and v not in schema["enum"]:
        errors.append(f"{path}: {v!r} not in {schema['enum']}")
    if "const" in schema and v != schema["const"]:
        errors.append(f"{path}: {v!r} is not {schema['const']!r}")
    number = TYPES["number"](v)
    if number and "minimum" in schema and v < schema["minimum"]:
        errors.append(f"{path}: {v} < {schema['minimum']}")
    if number and "maximum" in schema and v > schema["maximum"]:
        errors.append(f"{path}: {v} > {schema['maximum']}")
    if isinstance(v, dict):
        for key in schema.get("required", []):
            if key not in v:
                errors.append(f"{path}: missing {key}")
        props = schema.get("properties", {})
        for key, val in v.items():
            if key in props:
                validate(root, props[key], val, f"{path}.{key}", errors)
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected field {key!r}")
    if isinstance(v, list) and "items" in schema:
        for i, item in enumerate(v):
            validate(root, schema["items"], item, f"{path}[{i}]", errors)


def main():
    schema = json.load(open(sys.argv[1]))
    bad = 0
    for name in sys.argv[2:]:
        errors = []
        validate(schema, schema, json.load(open(name)), "$", errors)
        for e in errors:
            print(f"{name}: {e}")
        bad += bool(errors)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
