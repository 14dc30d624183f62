//! Program lookup inside the sandbox, the default environment, and what is named when a
//! program cannot start (the program, its `#!` interpreter, its dynamic loader).

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

fn executable(path: &std::path::Path, text: &str) {
    write(path, text);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_shim_first_on_the_host_path_is_not_used_for_a_name() {
    // A pyenv-style shim directory first on the caller's PATH, outside the sandbox.
    let shims = temp_dir("shims");
    executable(&shims.join("echo"), "#!/bin/sh\necho from-the-host-shim\n");
    let path = format!("{}:/usr/bin:/bin", s(&shims));
    let out = hk_with(
        &["run", "--", "echo", "from-the-sandbox"],
        &[("PATH", &path)],
    );
    out.ok();
    assert_eq!(out.stdout, "from-the-sandbox\n");
}

#[test]
fn a_name_with_a_rootdir_runs_the_rootdirs_program() {
    // R has its own static busybox in /bin and no /usr: the host's /usr/bin/busybox is not
    // reachable inside, so only R's can answer.
    let r = temp_dir("rootdir-busybox");
    std::fs::create_dir_all(r.join("bin")).unwrap();
    // Copied by cp, not by this process: a child another test thread forks at that moment
    // would inherit the copy's write descriptor until its exec, and running the copy then
    // fails with ETXTBSY.
    let cp = std::process::Command::new("cp")
        .arg("/bin/busybox")
        .arg(r.join("bin/busybox"))
        .status()
        .unwrap();
    assert!(cp.success(), "busybox-static (.ci/setup)");
    let out = hk(&["run", "--rootdir", s(&r), "--", "busybox", "echo", "from R"]);
    out.ok();
    assert_eq!(out.stdout, "from R\n");
}

#[test]
fn the_default_environment_is_path_only_without_a_terminal() {
    let out = hk_with(&["run", "--", "env"], &[("TERM", "xterm-test")]);
    out.ok();
    assert_eq!(
        out.stdout,
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
    );
}

#[test]
fn a_given_path_replaces_the_default() {
    let out = hk(&["run", "-e", "PATH=/usr/bin", "--", "/usr/bin/env"]);
    out.ok();
    assert_eq!(out.stdout, "PATH=/usr/bin\n");
}

#[test]
fn cc_compiles_in_the_working_directory() {
    let d = temp_dir("cc");
    write(
        &d.join("hello.c"),
        "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
    );
    let out = hk_in(
        &d,
        &["run", "-w", ".", "--", "cc", "-o", "hello", "hello.c"],
    );
    out.ok();
    let run = std::process::Command::new(d.join("hello"))
        .output()
        .unwrap();
    assert_eq!(run.stdout, b"hello\n");
}

#[test]
fn a_missing_program_by_name_is_127_and_says_inside_the_sandbox() {
    let out = hk(&["run", "--", "no-such-program-hk"]);
    assert_eq!(out.code, 127, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("no-such-program-hk: command not found inside the sandbox (PATH="),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_program_by_path_is_127() {
    let out = hk(&["run", "--", "/no/such/program-hk"]);
    assert_eq!(out.code, 127, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("/no/such/program-hk: no such file inside the sandbox"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_host_file_that_is_not_mounted_is_127() {
    // It exists on the host, not in the sandbox (its directory is not bound).
    let d = temp_dir("unmounted");
    executable(&d.join("prog"), "#!/bin/sh\necho hi\n");
    let out = hk(&["run", "--", s(&d.join("prog"))]);
    assert_eq!(out.code, 127, "{}", out.stderr);
    assert!(
        out.stderr.contains("no such file inside the sandbox"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_shebang_interpreter_is_named_and_126() {
    let d = temp_dir("shebang");
    executable(&d.join("script"), "#!/no/such/interpreter -x\necho hi\n");
    let out = hk_in(&d, &["run", "-w", ".", "--", "./script"]);
    assert_eq!(out.code, 126, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "{}: its interpreter /no/such/interpreter (the #! line) does not exist inside the sandbox",
            s(&d.join("script"))
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_shebang_interpreter_of_a_program_found_by_name_is_named() {
    // The interpreter exists on the host (the scratch dir) but not inside the sandbox.
    let d = temp_dir("shebang-name");
    executable(&d.join("interp"), "#!/bin/sh\n");
    executable(&d.join("tool-hk"), &format!("#!{}\n", s(&d.join("interp"))));
    let bind = format!("{}:/opt/t", s(&d));
    let out = hk(&[
        "run",
        "-b",
        &bind,
        "-e",
        "PATH=/opt/t:/usr/bin",
        "--",
        "tool-hk",
    ]);
    assert_eq!(out.code, 126, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "/opt/t/tool-hk: its interpreter {} (the #! line) does not exist inside the sandbox",
            s(&d.join("interp"))
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_dynamic_loader_is_named_and_126() {
    let d = temp_dir("loader");
    compile_c(
        &d,
        "noloader",
        "int main(void) { return 0; }\n",
        &["-Wl,--dynamic-linker=/no/such/ld-hk.so"],
    );
    let out = hk_in(&d, &["run", "-w", ".", "--", "./noloader"]);
    assert_eq!(out.code, 126, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "{}: its dynamic loader /no/such/ld-hk.so (ELF PT_INTERP) does not exist inside the sandbox",
            s(&d.join("noloader"))
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_file_without_execute_permission_is_126() {
    let d = temp_dir("noexec");
    write(&d.join("data"), "#!/bin/sh\necho hi\n");
    let out = hk_in(&d, &["run", "-w", ".", "--", "./data"]);
    assert_eq!(out.code, 126, "{}", out.stderr);
    assert!(
        out.stderr.contains("errno 13): Permission denied\n")
            && out.stderr.contains("cannot be executed inside the sandbox"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_loader_of_the_shebang_interpreter_is_named() {
    // script -> #!/opt/i/interp (exists) -> its ELF loader /no/such/ld-hk.so (missing).
    let d = temp_dir("nested-interp");
    compile_c(
        &d,
        "interp",
        "int main(void) { return 0; }\n",
        &["-Wl,--dynamic-linker=/no/such/ld-hk.so"],
    );
    executable(&d.join("script"), "#!/opt/i/interp\n");
    let bind = format!("{}:/opt/i", s(&d));
    let out = hk(&["run", "-b", &bind, "--", "/opt/i/script"]);
    assert_eq!(out.code, 126, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "/opt/i/interp: its dynamic loader /no/such/ld-hk.so (ELF PT_INTERP) does not exist inside the sandbox (needed to run /opt/i/script)"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_script_with_dos_line_endings_names_the_carriage_return() {
    // The kernel looks for "/bin/sh\r": the message must name that, not "/bin/sh" (which
    // exists, so the old explanation could only shrug).
    let d = temp_dir("crlf");
    executable(&d.join("script"), "#!/bin/sh\r\necho hi\r\n");
    let out = hk_in(&d, &["run", "-w", ".", "--", "./script"]);
    assert_eq!(out.code, 126, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "{}: its interpreter /bin/sh\\r (the #! line) does not exist inside the sandbox \
             (the line ends with a carriage return: the file has DOS line endings)",
            s(&d.join("script"))
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_fifo_that_a_shebang_line_almost_names_is_not_opened() {
    // "#!FIFO\f": the kernel looks for "FIFO\f" (only spaces and tabs end the name) and says
    // ENOENT; the explanation must not take the name to be FIFO and open it (a FIFO blocks
    // the CLI forever; a device node would run its driver's open).
    let d = temp_dir("fifo-shebang");
    let fifo = d.join("fifo");
    mkfifo(&fifo);
    executable(&d.join("script"), &format!("#!{}\x0c\necho hi\n", s(&fifo)));
    let (out, opened) = watching_fifo(&fifo, true, || {
        hk_in(&d, &["run", "-w", ".", "--", "./script"])
    });
    assert!(!opened, "the CLI opened the FIFO: {}", out.stderr);
    assert_eq!(out.code, 126, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "its interpreter {}\\u{{c}} (the #! line)",
            s(&fifo)
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_rootdirs_own_proc_is_not_taken_for_the_sandboxs() {
    // Inside, /proc is the sandbox's procfs; R/proc/fifo on the host is not there. The old
    // view took it for the interpreter and blocked opening it.
    let r = temp_dir("rootdir-proc-fifo");
    std::fs::create_dir_all(r.join("proc")).unwrap();
    let fifo = r.join("proc/fifo");
    mkfifo(&fifo);
    executable(&r.join("script"), "#!/proc/fifo\n");
    let (out, opened) = watching_fifo(&fifo, true, || {
        hk(&["run", "--rootdir", s(&r), "--", "/script"])
    });
    assert!(!opened, "the CLI opened the FIFO: {}", out.stderr);
    assert_eq!(out.code, 126, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "/script: its interpreter /proc/fifo (the #! line) does not exist inside the sandbox"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_file_name_on_the_shebang_chain_reaches_the_message_escaped() {
    // script -> #!DIR/<ESC>]0;owned<BEL> (exists, a script) -> #!/no/such/interpreter.
    // The middle name comes from the tree, not from the user: it must not set the
    // terminal's title when the CLI explains the failure.
    let d = temp_dir("escape-chain");
    let middle = d.join("i\x1b]0;owned\x07");
    executable(&middle, "#!/no/such/interpreter\n");
    executable(&d.join("script"), &format!("#!{}\n", s(&middle)));
    let out = hk_in(&d, &["run", "-w", ".", "--", "./script"]);
    assert_eq!(out.code, 126, "{}", out.stderr);
    assert!(!out.stderr.contains('\x1b'), "{:?}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "{}/i\\u{{1b}}]0;owned\\u{{7}}: its interpreter /no/such/interpreter",
            s(&d)
        )),
        "{}",
        out.stderr
    );
}
