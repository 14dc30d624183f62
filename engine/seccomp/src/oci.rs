//! OCI / Docker / Podman JSON seccomp profiles.

use serde_json::{Map, Value};

use crate::arch::Arch;
use crate::caps::cap_number;
use crate::policy::{Action, ArgLen, CmpOp, Condition, Policy};
use crate::profile::{Builder, Filter};
use crate::{Error, Warning};

const EPERM: u32 = 1;

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::InvalidProfile {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn get_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, Error> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(&format!("{path}{key}"), "expected a string")),
    }
}

fn get_u64(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<u64>, Error> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid(&format!("{path}{key}"), "expected an unsigned integer")),
    }
}

fn get_array<'a>(obj: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a [Value], Error> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(invalid(&format!("{path}{key}"), "expected an array")),
    }
}

fn strings<'a>(obj: &'a Map<String, Value>, key: &str, path: &str) -> Result<Vec<&'a str>, Error> {
    get_array(obj, key, path)?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .ok_or_else(|| invalid(&format!("{path}{key}[{i}]"), "expected a string"))
        })
        .collect()
}

fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Error> {
    v.as_object()
        .ok_or_else(|| invalid(path, "expected an object"))
}

fn action(name: &str, errno: Option<u64>, field: &str, errno_field: &str) -> Result<Action, Error> {
    let data = || -> Result<u32, Error> {
        match errno {
            None => Ok(EPERM),
            Some(e) if e <= 0xffff => Ok(e as u32),
            Some(_) => Err(invalid(errno_field, "must fit in 16 bits")),
        }
    };
    Ok(match name {
        "SCMP_ACT_ALLOW" => Action::Allow,
        "SCMP_ACT_ERRNO" => Action::Errno(data()?),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
        "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
        "SCMP_ACT_LOG" => Action::Log,
        "SCMP_ACT_TRAP" => Action::Trap,
        "SCMP_ACT_TRACE" => Action::Trace(data()?),
        "SCMP_ACT_NOTIFY" => {
            return Err(invalid(
                field,
                "SCMP_ACT_NOTIFY is not supported (no user-notify listener)",
            ))
        }
        other => return Err(invalid(field, format!("unknown action `{other}`"))),
    })
}

fn caps_of(obj: &Map<String, Value>, path: &str) -> Result<Vec<u32>, Error> {
    strings(obj, "caps", path)?
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cap_number(c).ok_or_else(|| {
                invalid(
                    &format!("{path}caps[{i}]"),
                    format!("unknown capability `{c}`"),
                )
            })
        })
        .collect()
}

/// Load an OCI / Docker / Podman JSON seccomp profile for a program holding the
/// capabilities `caps` (bit `n` = capability `n`).
///
/// Supported: `defaultAction`, `defaultErrnoRet`, `architectures`, `archMap`, and per
/// `syscalls[]` entry `names` (or legacy `name`), `action`, `errnoRet`, `args` (`index`,
/// `value`, `valueTwo`, `op`), `includes` / `excludes` (`arches`, `caps`, `minKernel`).
/// `minKernel` is not evaluated: the entry is applied and a warning says so. Names unknown
/// on the native architecture are reported as warnings. `SCMP_ACT_NOTIFY` and anything
/// malformed is an error naming the field.
pub fn from_oci_json(text: &str, caps: u64) -> Result<(Policy, Vec<Warning>), Error> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| invalid("(document)", e.to_string()))?;
    let root = object(&doc, "(document)")?;
    let native = Arch::native();
    let mut warnings = Vec::new();

    let default_name =
        get_str(root, "defaultAction", "")?.ok_or_else(|| invalid("defaultAction", "missing"))?;
    let default = action(
        default_name,
        get_u64(root, "defaultErrnoRet", "")?,
        "defaultAction",
        "defaultErrnoRet",
    )?;
    let mut policy = Policy::new(default);
    policy.set_name("oci");

    // Architectures: `architectures` lists them; `archMap` adds the sub-architectures of the
    // entry for the native architecture. The native one is always allowed.
    let mut arch_names: Vec<String> = strings(root, "architectures", "")?
        .into_iter()
        .map(str::to_owned)
        .collect();
    for (i, m) in get_array(root, "archMap", "")?.iter().enumerate() {
        let path = format!("archMap[{i}].");
        let m = object(m, &path)?;
        let arch = get_str(m, "architecture", &path)?
            .ok_or_else(|| invalid(&format!("{path}architecture"), "missing"))?;
        if Arch::from_oci(arch) == Some(native) {
            arch_names.push(arch.to_owned());
            arch_names.extend(
                strings(m, "subArchitectures", &path)?
                    .into_iter()
                    .map(str::to_owned),
            );
        }
    }
    for name in &arch_names {
        match Arch::from_oci(name) {
            Some(a) if a == native => {}
            Some(a @ (Arch::X86 | Arch::X32)) if native == Arch::X86_64 => {
                policy.allow_arch(a);
                if matches!(default, Action::Allow | Action::Log) {
                    warnings.push(Warning(format!(
                        "architecture {name} is allowed, but its system calls cannot be matched \
                         against the rules here: they fail with ENOSYS instead of the default \
                         action {default:?}"
                    )));
                }
            }
            _ => warnings.push(Warning(format!(
                "architecture {name} does not run on {native:?} here and was ignored"
            ))),
        }
    }

    let mut builder = Builder::new(default, native);
    for (i, entry) in get_array(root, "syscalls", "")?.iter().enumerate() {
        let path = format!("syscalls[{i}].");
        let e = object(entry, &format!("syscalls[{i}]"))?;
        let mut names = strings(e, "names", &path)?;
        if let Some(n) = get_str(e, "name", &path)? {
            names.push(n);
        }
        if names.is_empty() {
            return Err(invalid(&format!("{path}names"), "missing or empty"));
        }
        let act_name = get_str(e, "action", &path)?
            .ok_or_else(|| invalid(&format!("{path}action"), "missing"))?;
        let act = action(
            act_name,
            get_u64(e, "errnoRet", &path)?,
            &format!("{path}action"),
            &format!("{path}errnoRet"),
        )?;

        let mut conds = Vec::new();
        for (j, a) in get_array(e, "args", &path)?.iter().enumerate() {
            let apath = format!("{path}args[{j}].");
            let a = object(a, &format!("{path}args[{j}]"))?;
            let index = get_u64(a, "index", &apath)?
                .ok_or_else(|| invalid(&format!("{apath}index"), "missing"))?;
            if index > 5 {
                return Err(invalid(
                    &format!("{apath}index"),
                    format!("{index} is not 0..=5"),
                ));
            }
            let value = get_u64(a, "value", &apath)?
                .ok_or_else(|| invalid(&format!("{apath}value"), "missing"))?;
            let value_two = get_u64(a, "valueTwo", &apath)?.unwrap_or(0);
            let op = get_str(a, "op", &apath)?
                .ok_or_else(|| invalid(&format!("{apath}op"), "missing"))?;
            let (op, value) = match op {
                "SCMP_CMP_NE" => (CmpOp::Ne, value),
                "SCMP_CMP_LT" => (CmpOp::Lt, value),
                "SCMP_CMP_LE" => (CmpOp::Le, value),
                "SCMP_CMP_EQ" => (CmpOp::Eq, value),
                "SCMP_CMP_GE" => (CmpOp::Ge, value),
                "SCMP_CMP_GT" => (CmpOp::Gt, value),
                // libseccomp: (arg & datum_a) == datum_b, i.e. value = mask, valueTwo = datum.
                "SCMP_CMP_MASKED_EQ" => (CmpOp::MaskedEq(value), value_two),
                other => {
                    return Err(invalid(
                        &format!("{apath}op"),
                        format!("unknown operator `{other}`"),
                    ))
                }
            };
            conds.push(Condition {
                arg: index as u8,
                op,
                value,
                len: ArgLen::Qword,
            });
        }

        let empty = Map::new();
        let inc = match e.get("includes") {
            None | Some(Value::Null) => &empty,
            Some(v) => object(v, &format!("{path}includes"))?,
        };
        let exc = match e.get("excludes") {
            None | Some(Value::Null) => &empty,
            Some(v) => object(v, &format!("{path}excludes"))?,
        };
        let (ipath, epath) = (format!("{path}includes."), format!("{path}excludes."));
        let (inc_caps, exc_caps) = (caps_of(inc, &ipath)?, caps_of(exc, &epath)?);
        let (inc_arches, exc_arches) = (
            strings(inc, "arches", &ipath)?,
            strings(exc, "arches", &epath)?,
        );
        let filter = Filter {
            includes_caps: &inc_caps,
            excludes_caps: &exc_caps,
            includes_arches: &inc_arches,
            excludes_arches: &exc_arches,
        };
        if !filter.applies(caps, native) {
            continue;
        }
        for (obj, p) in [(inc, &ipath), (exc, &epath)] {
            if let Some(k) = get_str(obj, "minKernel", p)? {
                warnings.push(Warning(format!(
                    "{p}minKernel ({k}) is not evaluated; the entry for {names:?} was applied"
                )));
            }
        }
        for name in names {
            builder.add(name, &conds, act);
        }
    }
    warnings.extend(builder.finish(&mut policy)?);
    Ok((policy, warnings))
}
