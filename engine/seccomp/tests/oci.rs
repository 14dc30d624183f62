//! The OCI JSON loader: fields, semantics, warnings and errors naming the field.

use hakoniwa_seccomp::interp::{run, SeccompData};
use hakoniwa_seccomp::{from_oci_json, Action, Arch, Error, Policy};

const X86_64: u32 = 0xc000_003e;

fn decide(p: &Policy, nr: u32, args: [u64; 6]) -> Action {
    let prog = p.compile().unwrap().instructions;
    Action::from_ret_value(run(&prog, &SeccompData::new(X86_64, nr, args)).unwrap()).unwrap()
}

fn nr(name: &str) -> u32 {
    Arch::X86_64.syscall_nr(name).unwrap()
}

fn field_of(text: &str) -> String {
    match from_oci_json(text, 0) {
        Err(Error::InvalidProfile { field, .. }) => field,
        other => panic!("expected InvalidProfile, got {other:?}"),
    }
}

#[test]
fn loads_actions_args_and_errno() {
    let text = r#"{
        "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
            {"name": "getpid", "action": "SCMP_ACT_LOG"},
            {"names": ["getppid"], "action": "SCMP_ACT_TRAP"},
            {"names": ["gettid"], "action": "SCMP_ACT_TRACE", "errnoRet": 5},
            {"names": ["kexec_load"], "action": "SCMP_ACT_KILL"},
            {"names": ["reboot"], "action": "SCMP_ACT_KILL_PROCESS"},
            {"names": ["uselib"], "action": "SCMP_ACT_KILL_THREAD"},
            {"names": ["chroot"], "action": "SCMP_ACT_ERRNO"},
            {"names": ["ioctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
             "args": [{"index": 1, "value": 4294967295, "valueTwo": 21522, "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 1, "value": 21522, "op": "SCMP_CMP_NE"}]},
            {"names": ["mmap"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 2, "value": 4, "op": "SCMP_CMP_LT"}, {"index": 3, "value": 34, "op": "SCMP_CMP_EQ"}]},
            {"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 4096, "op": "SCMP_CMP_GE"}]},
            {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_LE"}]},
            {"names": ["tkill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_GT"}]}
        ]
    }"#;
    let (p, warnings) = from_oci_json(text, 0).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(p.default_action(), Action::Errno(38));
    assert_eq!(decide(&p, nr("read"), [0; 6]), Action::Allow);
    assert_eq!(decide(&p, nr("getpid"), [0; 6]), Action::Log);
    assert_eq!(decide(&p, nr("getppid"), [0; 6]), Action::Trap);
    assert_eq!(decide(&p, nr("gettid"), [0; 6]), Action::Trace(5));
    assert_eq!(decide(&p, nr("kexec_load"), [0; 6]), Action::KillThread);
    assert_eq!(decide(&p, nr("reboot"), [0; 6]), Action::KillProcess);
    assert_eq!(decide(&p, nr("uselib"), [0; 6]), Action::KillThread);
    assert_eq!(
        decide(&p, nr("chroot"), [0; 6]),
        Action::Errno(1),
        "errnoRet defaults to EPERM"
    );
    assert_eq!(
        decide(&p, nr("ioctl"), [0, 0x5412, 0, 0, 0, 0]),
        Action::Errno(1)
    );
    assert_eq!(
        decide(&p, nr("ioctl"), [0, 0x1_0000_5412, 0, 0, 0, 0]),
        Action::Errno(1),
        "masked"
    );
    assert_eq!(
        decide(&p, nr("ioctl"), [0, 0x5413, 0, 0, 0, 0]),
        Action::Allow
    );
    // AND within an entry, OR across entries.
    assert_eq!(decide(&p, nr("mmap"), [0, 0, 3, 34, 0, 0]), Action::Allow);
    assert_eq!(
        decide(&p, nr("mmap"), [0, 0, 4, 34, 0, 0]),
        Action::Errno(38)
    );
    assert_eq!(
        decide(&p, nr("mmap"), [0, 0, 3, 35, 0, 0]),
        Action::Errno(38)
    );
    assert_eq!(decide(&p, nr("mmap"), [4096, 0, 9, 9, 0, 0]), Action::Allow);
    assert_eq!(decide(&p, nr("kill"), [0, 9, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(
        decide(&p, nr("kill"), [0, 10, 0, 0, 0, 0]),
        Action::Errno(38)
    );
    assert_eq!(decide(&p, nr("tkill"), [0, 10, 0, 0, 0, 0]), Action::Allow);
    assert_eq!(
        decide(&p, nr("tkill"), [0, 9, 0, 0, 0, 0]),
        Action::Errno(38)
    );
    // No x32 / i386 unless listed.
    assert_eq!(p.arches(), vec![Arch::X86_64]);
}

#[test]
fn unknown_names_are_warnings_not_silence() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["read", "frobnicate", "_llseek"], "action": "SCMP_ACT_ALLOW"}]}"#;
    let (p, warnings) = from_oci_json(text, 0).unwrap();
    let w: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        vec![
            "syscall `frobnicate` is unknown on X86_64 and was not added",
            "syscall `_llseek` is unknown on X86_64 and was not added"
        ]
    );
    assert_eq!(decide(&p, nr("read"), [0; 6]), Action::Allow);
}

#[test]
fn includes_excludes_caps_arches_and_min_kernel() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
        "syscalls": [
            {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_CHROOT"]}},
            {"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "excludes": {"caps": ["CAP_SYS_CHROOT"]}},
            {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
            {"names": ["set_tls"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm"]}},
            {"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
            {"names": ["statx"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.11"}}
        ]}"#;
    let (p, warnings) = from_oci_json(text, 0).unwrap();
    assert_eq!(decide(&p, nr("chroot"), [0; 6]), Action::Errno(1));
    assert_eq!(decide(&p, nr("arch_prctl"), [0; 6]), Action::Allow);
    assert_eq!(decide(&p, nr("getpid"), [0; 6]), Action::Errno(38));
    assert_eq!(decide(&p, nr("statx"), [0; 6]), Action::Allow);
    // set_tls is skipped by its arch filter, so no unknown-name warning for it.
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].0.contains("minKernel"));
    let (p, _) = from_oci_json(text, 1 << 18).unwrap();
    assert_eq!(decide(&p, nr("chroot"), [0; 6]), Action::Allow);
}

#[test]
fn architectures_and_arch_map() {
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
        "syscalls": []}"#;
    let (p, w) = from_oci_json(text, 0).unwrap();
    assert_eq!(p.arches(), vec![Arch::X86_64, Arch::X86, Arch::X32]);
    assert!(w.is_empty(), "{w:?}");
    let text = r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM"]}"#;
    let (p, w) = from_oci_json(text, 0).unwrap();
    assert_eq!(p.arches(), vec![Arch::X86_64, Arch::X32]);
    assert!(
        w.iter()
            .any(|w| w.0.contains("SCMP_ARCH_X32") && w.0.contains("ENOSYS instead")),
        "{w:?}"
    );
    assert!(w.iter().any(|w| w.0.contains("SCMP_ARCH_ARM")), "{w:?}");
}

#[test]
fn libseccomp_merge_rules() {
    // The first unconditional rule decides; a conflicting later one is reported.
    let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [
        {"names": ["setns"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["setns"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
        {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22, "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
        {"names": ["read"], "action": "SCMP_ACT_ALLOW"}
    ]}"#;
    let (p, w) = from_oci_json(text, 0).unwrap();
    assert_eq!(decide(&p, nr("setns"), [0; 6]), Action::Allow);
    assert_eq!(decide(&p, nr("socket"), [16, 0, 0, 0, 0, 0]), Action::Allow);
    // A rule with the default action is not added (libseccomp refuses it).
    assert_eq!(decide(&p, nr("read"), [0; 6]), Action::Allow);
    assert_eq!(w.len(), 2, "{w:?}");
}

#[test]
fn errors_name_the_field() {
    assert_eq!(field_of("{"), "(document)");
    assert_eq!(field_of("[]"), "(document)");
    assert_eq!(field_of(r#"{"syscalls": []}"#), "defaultAction");
    assert_eq!(
        field_of(r#"{"defaultAction": "SCMP_ACT_NOPE"}"#),
        "defaultAction"
    );
    assert_eq!(
        field_of(r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": -1}"#),
        "defaultErrnoRet"
    );
    let entries = r#"{"names": ["read"], "action": "SCMP_ACT_ALLOW"}, {"names": ["write"], "action": "SCMP_ACT_ALLOW"}, {"names": ["close"], "action": "SCMP_ACT_ALLOW"}"#;
    let with = |fourth: &str| {
        format!(r#"{{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{entries}, {fourth}]}}"#)
    };
    assert_eq!(
        field_of(&with(r#"{"names": ["dup"], "action": "SCMP_ACT_FOO"}"#)),
        "syscalls[3].action"
    );
    assert_eq!(
        field_of(&with(r#"{"names": ["dup"]}"#)),
        "syscalls[3].action"
    );
    assert_eq!(
        field_of(&with(r#"{"action": "SCMP_ACT_ALLOW"}"#)),
        "syscalls[3].names"
    );
    assert_eq!(
        field_of(&with(r#"{"names": "dup", "action": "SCMP_ACT_ALLOW"}"#)),
        "syscalls[3].names"
    );
    assert_eq!(
        field_of(&with(
            r#"{"names": ["dup"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_SOMETIMES"}]}"#
        )),
        "syscalls[3].args[0].op"
    );
    assert_eq!(
        field_of(&with(
            r#"{"names": ["dup"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}"#
        )),
        "syscalls[3].args[0].index"
    );
    assert_eq!(
        field_of(&with(
            r#"{"names": ["dup"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "op": "SCMP_CMP_EQ"}]}"#
        )),
        "syscalls[3].args[0].value"
    );
    assert_eq!(
        field_of(&with(
            r#"{"names": ["dup"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_FLY"]}}"#
        )),
        "syscalls[3].includes.caps[0]"
    );
    let e = from_oci_json(
        &with(r#"{"names": ["dup"], "action": "SCMP_ACT_NOTIFY"}"#),
        0,
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "invalid seccomp profile: `syscalls[3].action`: SCMP_ACT_NOTIFY is not supported (no user-notify listener)");
}
