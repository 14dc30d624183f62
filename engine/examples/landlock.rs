//! Landlock: after the mounts, restrict the filesystem to reading and executing `/usr` and
//! reading and writing `/tmp`; everything else is denied, whatever the mounts allow.
//!
//! `cargo run -p hakoniwa-sandbox --example landlock` (shown in docs/rust.md, run by
//! engine/tests/examples.rs; needs a kernel with landlock)
use hakoniwa::landlock::{CompatMode, FsAccess, Resource, Ruleset};
use hakoniwa::Container;

fn main() -> Result<(), hakoniwa::Error> {
    let mut rules = Ruleset::new();
    rules
        .restrict(Resource::Fs, CompatMode::Enforce) // fail if the kernel cannot
        .add_fs_rule("/usr", FsAccess::R | FsAccess::X) // /bin, /lib are symlinks into /usr
        .add_fs_rule("/tmp", FsAccess::R | FsAccess::W);
    let mut container = Container::new();
    container.rootfs("/").tmpfsmount("/tmp").landlock(rules);
    let script = "echo kept > /tmp/note && cat /tmp/note; ls /etc 2>&1";
    let child = container
        .command("/bin/sh")
        .args(["-c", script])
        .stdout(hakoniwa::Stdio::piped())
        .spawn()?;
    let abi = child.enforcement().landlock.as_ref().map_or(0, |l| l.abi);
    println!("landlock ABI {abi}");
    let output = child.wait_with_output()?;
    print!("{}", String::from_utf8_lossy(&output.stdout));
    Ok(())
}
