//! Seccomp: the default profile (Podman's decisions) applies unless changed; here an OCI
//! JSON profile allows everything except `mkdir` (fails with EPERM) and `uname` (kills).
//!
//! `cargo run -p hakoniwa-sandbox --example seccomp` (shown in docs/rust.md, run by
//! engine/tests/examples.rs)
use hakoniwa::seccomp::Seccomp;
use hakoniwa::{Container, ExitReason};

const PROFILE: &str = r#"{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1 },
    { "names": ["uname"], "action": "SCMP_ACT_KILL_PROCESS" }
  ]
}"#;

fn main() -> Result<(), hakoniwa::Error> {
    let mut container = Container::new();
    container
        .rootfs("/")
        .tmpfsmount("/tmp")
        .seccomp(Seccomp::Oci {
            name: "example.json".into(),
            json: PROFILE.into(),
        });
    let out = container.command("/bin/mkdir").arg("/tmp/dir").output()?;
    print!("mkdir: {}", String::from_utf8_lossy(&out.stderr));

    let status = container.command("/bin/uname").status()?;
    assert_eq!(status.reason, ExitReason::SeccompViolation);
    println!("uname: {:?}, signal {:?}", status.reason, status.signal);
    Ok(())
}
