//! `hakoniwa run`: turn the resolved [`Settings`] (settings.rs) into a `Container` and a
//! `Command`, run it and report.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hakoniwa::{Container, ExitReason, Mount, Namespace, Rlimit, Runctl};

use crate::cli::RunArgs;
use crate::confine::apply_confinement;
use crate::death;
use crate::default_env::{a_stream_is_terminal, default_env};
use crate::exit_code::{self, CliError};
use crate::json_status::Sink;
use crate::lookup::{Missing, SandboxView};
use crate::settings::{
    absolute, caller_gid, caller_uid, invalid, resolve, resolve_user, userns_auto_maps, Maps,
    Network, Res, Settings,
};

/// The container, the command, and what to log and report about them.
pub struct Prepared {
    pub command: hakoniwa::Command,
    pub namespaces: Vec<String>,
    pub walltime: Option<Duration>,
    /// The sandbox's file tree as the host sees it (for messages about the program), built
    /// on first use: it reads the rootfs's entries, which a run without such a message or
    /// `-v` never needs.
    pub view: std::cell::LazyCell<SandboxView, Box<dyn FnOnce() -> SandboxView>>,
    /// The `PATH` the program is searched on inside the sandbox.
    pub search_path: String,
    /// The namespaces the sandbox gets.
    pub unshared: Vec<Namespace>,
    /// The directory the root is populated from.
    pub rootfs: Option<PathBuf>,
    /// What the engine's layout makes of it (read-only binds, recreated links).
    pub rootfs_entries: std::cell::LazyCell<Vec<Mount>, Box<dyn FnOnce() -> Vec<Mount>>>,
    /// The program's arguments (without argv\[0\]), for the `Execve` line.
    pub args: Vec<String>,
}

impl Prepared {
    /// The program as the sandbox found it (`/usr/bin/python3` for `python3`), else as given.
    fn program_display(&self) -> String {
        let given = self.command.get_program().to_string_lossy().into_owned();
        match self.view.find_program(&given, &self.search_path) {
            Some((inside, _)) => inside.display().to_string(),
            None => given,
        }
    }
}

/// What the engine's layout makes of the rootfs directory (the engine reports a directory
/// it cannot read when it spawns).
fn rootfs_entries_of(rootfs: Option<&Path>) -> Vec<Mount> {
    rootfs
        .map(|r| hakoniwa::layout::rootfs_entries(r).unwrap_or_default())
        .unwrap_or_default()
}

/// The sandbox's file tree as the host sees it: the root, the rootfs entries (each the host
/// path of its name, links included), the mounts and the symlinks, in the order the engine
/// applies them.
fn sandbox_view(s: &Settings, rootfs: Option<(&Path, &[Mount])>) -> SandboxView {
    let mut v = SandboxView::new(s.rootdir.as_ref().map(|(d, _)| d.as_path()));
    if let Some((r, entries)) = rootfs {
        for m in entries {
            let t = m.target();
            v.bind(&r.join(t.strip_prefix("/").unwrap_or(t)), t);
        }
    }
    for m in &s.mounts {
        match m {
            Mount::Bind { source, target, .. } => v.bind(source, target),
            Mount::Symlink { original, target } => v.symlink(original, target),
            Mount::Dir { .. } | Mount::File { .. } => {}
            other => v.empty(other.target()),
        }
    }
    for (o, l) in &s.symlinks {
        v.symlink(o, l);
    }
    if let Some(d) = &s.cwd {
        v.set_cwd(d);
    }
    v
}

/// The error for a failed spawn: exec failures get 126/127 and, for `ENOENT`, what is
/// missing (the program, its `#!` interpreter or its dynamic loader).
fn spawn_error(e: hakoniwa::Error, p: &Prepared) -> CliError {
    const ENOENT: i32 = 2;
    const ENOTDIR: i32 = 20;
    let hakoniwa::Error::Setup {
        stage: hakoniwa::Stage::Exec,
        errno,
        ..
    } = &e
    else {
        return crate::network_error::explain(e);
    };
    let program = p.command.get_program().to_string_lossy().into_owned();
    let by_name = !program.contains('/');
    // When what is missing belongs to an interpreter, say which program needed it.
    let found = p
        .view
        .find_program(&program, &p.search_path)
        .map(|(f, _)| f);
    // Paths on the `#!` chain are file names from the program's tree: control characters
    // escaped (an escape sequence in a name must not drive the terminal).
    let shown = |p: &Path| crate::printable::printable(&p.display().to_string());
    let needed_by = |file: &Path| match &found {
        Some(f) if f != file => format!(" (needed to run {})", shown(f)),
        _ => String::new(),
    };
    match *errno {
        ENOENT | ENOTDIR => match p.view.explain_enoent(&program, &p.search_path) {
            Missing::Program if by_name => CliError::new(
                exit_code::NOT_FOUND,
                format!(
                    "{program}: command not found inside the sandbox (PATH={})",
                    p.search_path
                ),
            ),
            Missing::Program => CliError::new(
                exit_code::NOT_FOUND,
                format!("{program}: no such file inside the sandbox (is its directory mounted?)"),
            ),
            Missing::Interpreter {
                program,
                interpreter,
            } => CliError::new(
                exit_code::NOT_EXECUTABLE,
                format!(
                    "{}: its interpreter {interpreter} (the #! line) does not exist inside the sandbox{}{}",
                    shown(&program),
                    needed_by(&program),
                    if interpreter.ends_with("\\r") {
                        " (the line ends with a carriage return: the file has DOS line endings)"
                    } else {
                        ""
                    }
                ),
            ),
            Missing::Unexplained { program } => CliError::new(
                exit_code::NOT_EXECUTABLE,
                format!(
                    "{}: exists inside the sandbox but execve said \"No such file or directory\": \
                     something it needs (an interpreter or loader, or theirs) is missing inside the sandbox",
                    shown(&program)
                ),
            ),
            Missing::Loader { program, loader } => CliError::new(
                exit_code::NOT_EXECUTABLE,
                format!(
                    "{}: its dynamic loader {loader} (ELF PT_INTERP) does not exist inside the sandbox{}",
                    shown(&program),
                    needed_by(&program)
                ),
            ),
        },
        // The original's line (ending with the error's text, as scripts match it), then why.
        _ => {
            let path = found.map_or(program.clone(), |f| f.display().to_string());
            CliError::new(
                exit_code::NOT_EXECUTABLE,
                format!(
                    "sandbox setup failed at stage exec ({path}, errno {errno}): {}\n\
                     hint: {path} cannot be executed inside the sandbox (no execute permission, \
                     a noexec mount, or denied by landlock)",
                    crate::strerror::strerror(*errno)
                ),
            )
        }
    }
}

/// Build the container and command from the settings.
pub fn prepare(s: &Settings) -> Res<Prepared> {
    let mut c = Container::new();
    for (ns, on) in &s.namespaces {
        if *on {
            c.unshare(*ns);
        } else {
            c.share(*ns);
        }
    }
    if let Some(h) = &s.hostname {
        c.hostname(h);
    }
    match &s.network {
        Some(Network::None) => {
            c.network(hakoniwa::Network::None);
        }
        Some(Network::Host) => {
            c.network(hakoniwa::Network::Host);
        }
        Some(Network::Pasta(opts)) => {
            crate::network_error::check_tun(Path::new("/dev/net/tun"), caller_uid() == 0)?;
            c.network(hakoniwa::Pasta::default().args(opts.iter().cloned()));
        }
        None => {}
    }
    let unshared: Vec<Namespace> = Namespace::ALL
        .iter()
        .copied()
        .filter(|ns| c.is_unshared(*ns))
        .collect();
    let namespaces: Vec<String> = unshared
        .iter()
        .map(|ns| format!("{ns:?}").to_lowercase())
        .collect();

    if let Some((d, rw)) = &s.rootdir {
        c.rootdir(d, *rw);
    }
    let rootfs: Option<PathBuf> = match s.rootfs.as_deref() {
        Some("none") => None,
        Some(p) => {
            let p = absolute(Path::new(p));
            if !p.is_dir() {
                return invalid(format!(
                    "--rootfs: not an existing directory: {}",
                    p.display()
                ));
            }
            Some(p)
        }
        None => match &s.rootdir {
            Some((d, _)) if d.join("bin").exists() => None,
            _ => Some(PathBuf::from("/")),
        },
    };
    if let Some(r) = &rootfs {
        c.rootfs(r);
    }
    // What the engine's layout makes of the rootfs directory (for the log, the view of the
    // sandbox and --print-config; the engine reports a directory it cannot read).
    // Read only when something shows them: a plain run does not stat the rootfs entries.
    let rootfs_entries: std::cell::LazyCell<Vec<Mount>, Box<dyn FnOnce() -> Vec<Mount>>> = {
        let rootfs = rootfs.clone();
        std::cell::LazyCell::new(Box::new(move || rootfs_entries_of(rootfs.as_deref())))
    };
    let (uidmaps, gidmaps) = if s.userns_auto {
        userns_auto_maps()?
    } else {
        (s.uidmaps.clone(), s.gidmaps.clone())
    };
    if let Some(u) = &s.user {
        // The sandbox's own /etc: the rootdir's, else the rootfs's.
        let etc = match (&s.rootdir, &rootfs) {
            (Some((d, _)), _) if d.join("etc").is_dir() => d.join("etc"),
            (_, Some(r)) => r.join("etc"),
            _ => {
                return invalid(
                    "--user needs an /etc/passwd in the sandbox (--rootfs or --rootdir)",
                )
            }
        };
        // Without gid maps the sandbox maps only the caller's own gid.
        let gid_mapped = |g: u32| {
            if gidmaps.is_empty() {
                g == caller_gid()
            } else {
                gidmaps.iter().any(|&(c, _, n)| g >= c && g - c < n)
            }
        };
        let (uid, gid, groups) = resolve_user(u, &etc, gid_mapped)?;
        c.user(uid, gid, groups.as_deref());
    }
    for m in &s.mounts {
        c.mount(m.clone());
    }
    for (d, mode) in &s.dirs {
        c.dir(d, *mode);
    }
    for (f, contents) in &s.files {
        c.file(f, contents);
    }
    for (o, l) in &s.symlinks {
        c.symlink(o, l);
    }

    if !uidmaps.is_empty() {
        c.uidmaps(&uidmaps);
    }
    if !gidmaps.is_empty() {
        c.gidmaps(&gidmaps);
    }
    // Without maps the sandbox maps the caller's own ids.
    let own = |m: &Maps, id: u32| -> Maps {
        if m.is_empty() {
            vec![(id, id, 1)]
        } else {
            m.clone()
        }
    };
    let envs = default_env(&s.envs, a_stream_is_terminal());
    // The log's inputs (the rootfs entries, the caller's ids) are read only for -v.
    if log::log_enabled!(log::Level::Debug) {
        crate::verbose::plan(
            s,
            &unshared,
            &rootfs_entries,
            &own(&uidmaps, caller_uid()),
            &own(&gidmaps, caller_gid()),
            &envs,
        );
    }

    for (r, v) in &s.limits {
        // CPU time: the soft limit sends SIGXCPU, which ends the program as it would outside a
        // sandbox (it is not PID 1); the hard limit one second later sends SIGKILL to a
        // program that handles SIGXCPU. With soft = hard the kernel sends only SIGKILL, which
        // cannot be told apart from any other SIGKILL without guessing from rusage.
        let hard = match r {
            Rlimit::Cpu if *v != hakoniwa::RLIM_INFINITY => v.saturating_add(1),
            _ => *v,
        };
        c.setrlimit(*r, *v, hard);
    }
    if s.allow_new_privs {
        c.runctl(Runctl::AllowNewPrivs);
    }
    if s.allow_setid {
        log::debug!("Set-id: allowed (--allow-setid)");
        c.runctl(Runctl::AllowSetid);
    }
    if s.no_init {
        log::debug!("Init: none, the program is PID 1 (--no-init)");
        c.init(false);
    }
    c.capabilities(s.caps);
    c.peak_memory(s.peak_memory);
    apply_confinement(&mut c, &s.landlock, &s.seccomp).map_err(CliError::invalid)?;

    // The name is looked up inside the sandbox, on the command's PATH (by the engine).
    let program = s.argv[0].clone();
    if program.is_empty() {
        return invalid("empty program name");
    }
    let mut cmd = c.command(&program);
    cmd.args(&s.argv[1..]);
    for (k, v) in &envs {
        cmd.env(k, v);
    }
    let search_path = envs
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if let Some(d) = &s.cwd {
        cmd.current_dir(d);
    }
    if let Some(w) = s.walltime {
        cmd.wait_timeout(w);
    }
    Ok(Prepared {
        command: cmd,
        namespaces,
        walltime: s.walltime,
        view: {
            let parts = Settings {
                rootdir: s.rootdir.clone(),
                mounts: s.mounts.clone(),
                symlinks: s.symlinks.clone(),
                cwd: s.cwd.clone(),
                ..Settings::default()
            };
            let rootfs = rootfs.clone();
            std::cell::LazyCell::new(Box::new(move || {
                let entries = rootfs_entries_of(rootfs.as_deref());
                sandbox_view(&parts, rootfs.as_deref().map(|r| (r, &entries[..])))
            }))
        },
        search_path,
        unshared,
        rootfs,
        rootfs_entries,
        args: s.argv[1..].to_vec(),
    })
}

/// `hakoniwa run`: returns the exit code.
pub fn main(args: &RunArgs) -> i32 {
    if args.json_schema {
        print!("{}", hakoniwa::status_json::SCHEMA);
        return 0;
    }
    // First, before any thread exists: see signals.rs.
    let signals = crate::signals::Signals::install();
    // A profile may come from a pipe or a terminal (`-c -`, `-c <(...)`): reading it may
    // wait, and signals are then taken as they come.
    if args.config.is_some() {
        signals.start();
    }
    let interrupted = |sig: i32| {
        eprintln!(
            "hakoniwa: interrupted by {} during setup",
            crate::signals::name(sig)
        );
        crate::signals::end_like(sig);
        128 + sig
    };
    // The status document's destination is opened before anything else runs (see Sink).
    let sink = match (&args.json_status, args.json_status_fd) {
        (Some(dest), _) => Sink::open_path(dest).map(Some),
        (None, Some(fd)) => Sink::from_fd(fd).map(Some),
        (None, None) => Ok(None),
    };
    let sink = std::cell::RefCell::new(match sink {
        Ok(s) => s,
        Err(e) => {
            let e = CliError::invalid(e);
            eprintln!("hakoniwa: {e}");
            return e.code;
        }
    });
    let write_report = |doc: &str| {
        if let Some(s) = sink.borrow_mut().as_mut() {
            if let Err(w) = s.write(doc) {
                eprintln!("hakoniwa: json status: {w}");
            }
        }
    };
    let report_err = |e: CliError, ns: Vec<String>| {
        // A hint comes on a line of its own: the first line ends with the error's text.
        for line in e.message.lines() {
            eprintln!("hakoniwa: {line}");
        }
        write_report(&crate::json_status::setup_failed(e.code, &e.message, &ns));
        e.code
    };
    let settings = match resolve(args) {
        Ok(s) => s,
        Err(e) => return report_err(e, Vec::new()),
    };
    let mut prepared = match prepare(&settings) {
        Ok(p) => p,
        Err(e) => return report_err(e, Vec::new()),
    };
    if args.print_config {
        print!(
            "{}",
            crate::print_config::render(
                &settings,
                &prepared.unshared,
                prepared
                    .rootfs
                    .as_deref()
                    .map(|r| (r, &prepared.rootfs_entries[..]))
            )
        );
        return 0;
    }
    if let Some(sig) = signals.pending() {
        return interrupted(sig);
    }
    // pasta's start-up is part of the spawn and takes tens of milliseconds.
    if matches!(settings.network, Some(Network::Pasta(_))) {
        signals.start();
    }
    // The program's own terminal (see pty.rs), opened on the host before the spawn.
    let pty = if settings.no_pty {
        log::debug!("Terminal: the caller's own (--no-pty)");
        None
    } else {
        match crate::relay::prepare(&mut prepared.command) {
            Ok(p) => {
                if p.is_some() {
                    log::debug!("Terminal: a pseudo-terminal of its own, relayed");
                }
                p
            }
            Err(e) => {
                let e = CliError::invalid(format!(
                    "cannot open a pseudo-terminal for the program: {e} (--no-pty gives it \
                     the caller's terminal instead, which is less safe: see docs/security.md)"
                ));
                return report_err(e, Vec::new());
            }
        }
    };
    // From here the caller's terminal may be raw (see relay.rs): the log writes whole lines
    // (pty.rs), and other messages wait until the relay has finished and restored it.
    let mut relay = None;
    if let Some(p) = pty {
        match p.start() {
            Ok(r) => {
                signals.relay_terminal(r.signal_handler());
                relay = Some(r);
            }
            Err(e) => {
                let e = CliError::invalid(format!("cannot relay the program's terminal: {e}"));
                return report_err(e, Vec::new());
            }
        }
    }
    // A seccomp kill's audit record is stamped after this (the log is read only after one).
    let kmsg = death::KmsgMark::now();
    let spawned = prepared.command.spawn();
    if let Some(r) = &relay {
        r.release_slave(&mut prepared.command);
    }
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            if let Some(r) = relay.as_mut() {
                r.finish();
            }
            crate::verbose::seccomp_and_execve(None, &prepared.program_display(), &prepared.args);
            let err = spawn_error(e, &prepared);
            let code = report_err(err, prepared.namespaces);
            return signals.pending().map_or(code, interrupted);
        }
    };
    if let Some(r) = &relay {
        r.attach(&mut child);
    }
    let signaller = match child.signaller() {
        Ok(s) => s,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            if let Some(r) = relay.as_mut() {
                r.finish();
            }
            let e = CliError::setup(format!("cannot forward signals to the sandbox: {e}"));
            return report_err(e, prepared.namespaces);
        }
    };
    if let Some(sig) = signals.forward_to(signaller) {
        // Ended before the program could run for long: tear the sandbox down (pasta
        // stopped) and end as the signal asked.
        let _ = child.kill();
        let _ = child.wait();
        if let Some(r) = relay.as_mut() {
            r.finish();
        }
        return interrupted(sig);
    }
    // The program's own pid (with the init, PID 1's child), for the seccomp message.
    let pid = program_pid(&child);
    let enforcement = child.enforcement().clone();
    // Naming the program as the sandbox sees it looks its path up on the host: only for -v.
    if log::log_enabled!(log::Level::Debug) {
        crate::verbose::seccomp_and_execve(
            Some(&enforcement),
            &prepared.program_display(),
            &prepared.args,
        );
    }
    crate::verbose::enforcement(&enforcement);
    for w in child.warnings() {
        log::warn!("{w}");
    }
    // Shedding walks this process's page tables (smaps, ~0.3 ms): worth it only while a
    // program runs for longer than that; one that ends at once is not kept waiting for it.
    // Signals that come meanwhile are taken (see signals.rs).
    if !signals.wait_for_end(child.pidfd(), SHED_AFTER) {
        crate::slim::release_startup_pages();
    }
    let waited = child.wait();
    if let Some(r) = relay.as_mut() {
        r.finish();
    }
    let status = match waited {
        Ok(s) => s,
        Err(e) => return report_err(crate::network_error::explain(e), prepared.namespaces),
    };
    crate::verbose::exited(&status);
    if let (ExitReason::Signaled, Some(sig)) = (status.reason, status.signal) {
        crate::signals::end_like(sig);
    }
    if !args.quiet {
        match status.reason {
            ExitReason::WallTimeExceeded => eprintln!(
                "hakoniwa: killed: wall-clock limit of {}s exceeded (--limit-walltime)",
                prepared
                    .walltime
                    .map(|w| w.as_secs_f64())
                    .unwrap_or_default()
            ),
            ExitReason::CpuTimeExceeded => {
                eprintln!("hakoniwa: killed: CPU time limit exceeded (--limit-cpu)")
            }
            ExitReason::FileSizeExceeded => {
                eprintln!("hakoniwa: killed: file size limit exceeded (--limit-fsize)")
            }
            ExitReason::SeccompViolation => {
                eprintln!(
                    "hakoniwa: {}",
                    death::seccomp_message(&prepared.program_display(), pid, kmsg)
                )
            }
            ExitReason::Signaled => {
                let sig = status.signal.unwrap_or_default();
                let prog = prepared.program_display();
                if let Some(m) = death::signal_message(&prog, sig, status.core_dumped) {
                    eprintln!("hakoniwa: {m}");
                }
            }
            _ => {}
        }
    }
    if sink.borrow().is_some() {
        write_report(&status.to_json(&enforcement));
    }
    status.code()
}

/// How long a program may run before the supervisor sheds its start-up pages.
const SHED_AFTER: Duration = Duration::from_millis(20);

/// The program's host pid, for naming a seccomp kill from the kernel's audit record.
/// `spawn` returns after the program's `execve` (the error pipe's EOF comes once the init
/// has closed its end after forking and the program has executed or failed): a program
/// missing from the init's children has already ended and been reaped, and waiting for the
/// init to end would not find it either; the init's pid is all that is left then.
fn program_pid(child: &hakoniwa::Child) -> u32 {
    child.program_id().unwrap_or_else(|| child.id())
}
