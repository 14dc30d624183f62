//! The benchmark harness behind `bench/run.sh` (not part of CI's pass/fail).
//!
//! Everything is measured side by side in one run, the compared commands interleaved round
//! by round (in a new order every round) so that noise from other work on the machine hits
//! all of them alike. It prints medians with p10/p90 and ratios (per-round paired ratios
//! where commands alternate), never single samples, and writes the same report to
//! `docs/benchmarks.md` with a description of the machine.
//!
//! `harness [--quick] [--out FILE]` — the sibling binaries `hakoniwa`, `floor` and
//! `syscall_loop` must be in the same directory. `--quick` runs every section with a few
//! samples only, to prove the harness works (used by `.ci/test`). `HK_BENCH_ONLY=a,b` runs
//! only the named sections; `HK_BASELINE=/path/to/hakoniwa` adds another build of the CLI
//! to the start-up comparison; `HK_CLI=/path/to/hakoniwa` measures that binary instead of
//! the sibling one (`bench/run.sh` passes its musl build so), and `HK_FLOOR=/path/to/floor`
//! the floor program built the same way (a floor paying glibc's start-up would flatter a
//! musl CLI).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hakoniwa::Container;

/// Samples of one quantity.
#[derive(Default, Clone)]
struct Samples(Vec<f64>);

impl Samples {
    fn q(&self, p: f64) -> f64 {
        let mut v = self.0.clone();
        if v.is_empty() {
            return f64::NAN;
        }
        v.sort_by(|a, b| a.total_cmp(b));
        v[((v.len() - 1) as f64 * p).round() as usize]
    }
    fn median(&self) -> f64 {
        self.q(0.5)
    }
    fn show(&self, unit: &str) -> String {
        format!(
            "{:.3} {unit} (p10 {:.3}, p90 {:.3}, n={})",
            self.median(),
            self.q(0.1),
            self.q(0.9),
            self.0.len()
        )
    }
}

struct Report {
    text: String,
}

impl Report {
    fn line(&mut self, s: impl AsRef<str>) {
        println!("{}", s.as_ref());
        self.text.push_str(s.as_ref());
        self.text.push('\n');
    }
    fn section(&mut self, title: &str) {
        self.line("");
        self.line(format!("## {title}"));
        self.line("");
    }
}

struct Env {
    quick: bool,
    dir: PathBuf,
    hk: PathBuf,
    floor: PathBuf,
    have_bwrap: bool,
    have_pasta: bool,
    filter_file: PathBuf,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// CPU time (user + system, ms) of this process's waited-for descendants so far: each
/// command's whole process tree, as every tool measured waits for its own children.
fn children_cpu_ms() -> f64 {
    const RUSAGE_CHILDREN: isize = -1;
    let mut ru = [0i64; 18];
    // SAFETY: getrusage writes one `struct rusage` (18 longs on x86_64) into `ru`.
    let r =
        unsafe { syscalls::syscall!(syscalls::Sysno::getrusage, RUSAGE_CHILDREN, ru.as_mut_ptr()) };
    assert!(r.is_ok(), "getrusage: {r:?}");
    // ru_utime and ru_stime: (seconds, microseconds) each.
    (ru[0] + ru[2]) as f64 * 1e3 + (ru[1] + ru[3]) as f64 / 1e3
}

/// Wall time (ms) and CPU time of the process tree (ms) of one run of `argv`.
fn time_cmd_cpu(argv: &[String]) -> (f64, f64) {
    let cpu = children_cpu_ms();
    let wall = time_cmd(argv);
    (wall, children_cpu_ms() - cpu)
}

fn time_cmd(argv: &[String]) -> f64 {
    let t = Instant::now();
    let st = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    let t = ms(t.elapsed());
    assert!(st.success(), "{argv:?} failed: {st}");
    t
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn bwrap_same_mounts(extra: &str, prog: &str) -> Vec<String> {
    words(&format!(
        "bwrap --unshare-user --unshare-pid {extra} --die-with-parent --ro-bind /usr /usr \
         --ro-bind /etc /etc --symlink usr/bin /bin --symlink usr/lib /lib \
         --symlink usr/lib64 /lib64 --symlink usr/sbin /sbin --proc /proc {prog}"
    ))
}

/// Interleaved timing of named commands: `rounds` rounds, each running every command once,
/// in a new order every round ([`round_order`]).
fn interleave(cmds: &[(String, Vec<String>)], rounds: usize) -> Vec<Samples> {
    interleave_cpu(cmds, rounds).0
}

/// As [`interleave`], with the CPU time of each run's process tree as well: (wall, CPU).
/// CPU time is what a loaded machine distorts least (waiting for a core is not counted).
fn interleave_cpu(cmds: &[(String, Vec<String>)], rounds: usize) -> (Vec<Samples>, Vec<Samples>) {
    let mut wall = vec![Samples::default(); cmds.len()];
    let mut cpu = vec![Samples::default(); cmds.len()];
    for (_, argv) in cmds {
        time_cmd(argv); // warm-up (page cache, dynamic loader)
    }
    for r in 0..rounds {
        for i in round_order(cmds.len(), r) {
            let (w, c) = time_cmd_cpu(&cmds[i].1);
            wall[i].0.push(w);
            cpu[i].0.push(c);
        }
    }
    (wall, cpu)
}

/// The order in which round `round` runs `n` commands: a permutation of `0..n` drawn from a
/// fixed pseudo-random sequence (the same in every run of the harness).
///
/// A rotating order (round r starting at command r) keeps each command behind the same
/// predecessor in nearly every round, and what the predecessor leaves behind helps or
/// burdens it (warm caches of the same executable; work deferred in the kernel: RCU
/// callbacks, the teardown of its namespaces). With rotation, `ours, default` nearly always
/// ran after `hakoniwa --version`, the floor after `unshare` and bwrap after the floor:
/// measured on an AMD EPYC host, that put our start-up ratios to bwrap and to the floor 2-6 %
/// in our favour.
fn round_order(n: usize, round: usize) -> Vec<usize> {
    // xorshift64*, seeded per round; Fisher-Yates.
    let mut x = (round as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    order
}

fn paired(a: &Samples, b: &Samples) -> Samples {
    Samples(a.0.iter().zip(&b.0).map(|(x, y)| x / y).collect())
}

fn startup(env: &Env, rep: &mut Report) {
    rep.section("CLI start-up (`run -- /bin/true`, ms per run, interleaved)");
    let hk = env.hk.display().to_string();
    let floor = env.floor.display().to_string();
    let mut cmds: Vec<(String, Vec<String>)> = vec![
        ("/bin/true alone".into(), words("/bin/true")),
        (
            "hakoniwa --version".into(),
            words(&format!("{hk} --version")),
        ),
        (
            "ours, default".into(),
            words(&format!("{hk} run -- /bin/true")),
        ),
        (
            "ours, --seccomp unconfined".into(),
            words(&format!("{hk} run --seccomp unconfined -- /bin/true")),
        ),
        (
            "ours, --unshare-all --devfs /dev --tmpfs /tmp".into(),
            words(&format!(
                "{hk} run --unshare-all --devfs /dev --tmpfs /tmp -- /bin/true"
            )),
        ),
        (
            "unshare -Urmpf --mount-proc".into(),
            words("unshare -Urmpf --mount-proc /bin/true"),
        ),
        (
            "floor (same syscalls and filter)".into(),
            words(&format!("{floor} {} /bin/true", env.filter_file.display())),
        ),
    ];
    // An older build to compare with (e.g. the main branch): HK_BASELINE=/path/to/hakoniwa.
    if let Ok(base) = std::env::var("HK_BASELINE") {
        cmds.push((
            "baseline build, --version".into(),
            words(&format!("{base} --version")),
        ));
        cmds.push((
            "baseline build, default".into(),
            words(&format!("{base} run -- /bin/true")),
        ));
    }
    if env.have_bwrap {
        cmds.push((
            "bwrap, same mounts".into(),
            bwrap_same_mounts("", "/bin/true"),
        ));
        cmds.push((
            "bwrap --unshare-all --dev /dev --tmpfs /tmp".into(),
            bwrap_same_mounts("--unshare-all --dev /dev --tmpfs /tmp", "/bin/true"),
        ));
    }
    let (s, cpu) = interleave_cpu(&cmds, if env.quick { 3 } else { 200 });
    rep.line("| command | median ms (p10, p90) | CPU ms of its processes, median (p10, p90) |");
    rep.line("|---|---|---|");
    for (((name, _), s), c) in cmds.iter().zip(&s).zip(&cpu) {
        rep.line(format!("| {name} | {} | {} |", s.show("ms"), c.show("ms")));
    }
    let idx = |n: &str| cmds.iter().position(|(c, _)| c == n);
    rep.line("");
    rep.line(
        "| paired ratio (median of per-round ratios) | wall: median (p10, p90) | goal | CPU: median (p10, p90) |",
    );
    rep.line("|---|---|---|---|");
    let mut ratio = |a: &str, b: &str, goal: &str| {
        if let (Some(i), Some(j)) = (idx(a), idx(b)) {
            rep.line(format!(
                "| {a} / {b} | {} | {goal} | {} |",
                paired(&s[i], &s[j]).show("x"),
                paired(&cpu[i], &cpu[j]).show("x")
            ));
        }
    };
    ratio("ours, default", "bwrap, same mounts", "<= 0.7x");
    ratio("ours, default", "unshare -Urmpf --mount-proc", "<= 1.1x");
    ratio(
        "ours, default",
        "floor (same syscalls and filter)",
        "<= 1.15x",
    );
    ratio("ours, --seccomp unconfined", "bwrap, same mounts", "");
    ratio("hakoniwa --version", "baseline build, --version", "");
    ratio("ours, default", "baseline build, default", "");
    ratio(
        "ours, --unshare-all --devfs /dev --tmpfs /tmp",
        "bwrap --unshare-all --dev /dev --tmpfs /tmp",
        "",
    );
}

/// Sandboxes per second with `workers` threads each running `per_worker` commands.
fn rate(argv: &[String], workers: usize, per_worker: usize) -> f64 {
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                for _ in 0..per_worker {
                    time_cmd(argv);
                }
            });
        }
    });
    (workers * per_worker) as f64 / t.elapsed().as_secs_f64()
}

fn throughput(env: &Env, rep: &mut Report) {
    rep.section("Throughput (sandboxes per second, `/bin/true`, interleaved repetitions)");
    let hk = env.hk.display().to_string();
    let mut tools: Vec<(&str, Vec<String>)> = vec![
        ("ours", words(&format!("{hk} run -- /bin/true"))),
        ("unshare", words("unshare -Urmpf --mount-proc /bin/true")),
    ];
    if env.have_bwrap {
        tools.push(("bwrap", bwrap_same_mounts("", "/bin/true")));
    }
    let (reps, total): (usize, usize) = if env.quick { (1, 8) } else { (5, 200) };
    rep.line("| workers | ours | bwrap | unshare | ours / bwrap |");
    rep.line("|---|---|---|---|---|");
    for workers in [1usize, 2, 8] {
        let mut s = vec![Samples::default(); tools.len()];
        for _ in 0..reps {
            for (i, (_, argv)) in tools.iter().enumerate() {
                s[i].0.push(rate(argv, workers, total.div_ceil(workers)));
            }
        }
        let get = |n: &str| tools.iter().position(|(t, _)| *t == n).map(|i| &s[i]);
        let show = |n: &str| get(n).map_or("-".into(), |s| s.show("/s"));
        let ratio = match (get("ours"), get("bwrap")) {
            (Some(a), Some(b)) => paired(a, b).show("x"),
            _ => "-".into(),
        };
        rep.line(format!(
            "| {workers} | {} | {} | {} | {ratio} (goal >= 1.3x) |",
            show("ours"),
            show("bwrap"),
            show("unshare")
        ));
    }
}

fn library(env: &Env, rep: &mut Report) {
    rep.section("Library: spawn + wait of `/bin/true` from one process (sandboxes per second)");
    let mut c = Container::new();
    c.rootfs("/");
    let lib_rate = |threads: usize, n: usize| lib_rate(&c, threads, n);
    let spawn_rate = |threads: usize, n: usize| {
        rate(&words("/bin/true"), threads, n) // std's posix_spawn
    };
    let bwrap = bwrap_same_mounts("", "/bin/true");
    // The ratio to bwrap is the goal, so each library run is paired with the bwrap run next
    // to it, in alternating order (ABBA: drift in the machine's speed cancels), over enough
    // rounds that one slow moment moves no median.
    let (reps, n) = if env.quick { (1, 5) } else { (15, 200) };
    let mut s: Vec<Samples> = vec![Samples::default(); 6];
    for round in 0..reps {
        for threads in [1, 2] {
            let i = threads - 1;
            let lib = |s: &mut Vec<Samples>| s[i].0.push(lib_rate(threads, n));
            let bw = |s: &mut Vec<Samples>| {
                if env.have_bwrap {
                    s[4 + i].0.push(rate(&bwrap, threads, n));
                }
            };
            if round % 2 == 0 {
                lib(&mut s);
                bw(&mut s);
            } else {
                bw(&mut s);
                lib(&mut s);
            }
            s[2 + i].0.push(spawn_rate(threads, n));
        }
    }
    rep.line("| threads | library | bare posix_spawn | bwrap CLI | library / bwrap |");
    rep.line("|---|---|---|---|---|");
    for (i, threads) in [1, 2].into_iter().enumerate() {
        rep.line(format!(
            "| {threads} | {} | {} | {} | {} |",
            s[i].show("/s"),
            s[2 + i].show("/s"),
            s[4 + i].show("/s"),
            if env.have_bwrap {
                paired(&s[i], &s[4 + i]).show("x")
            } else {
                "-".into()
            }
        ));
    }
    rep.line(format!(
        "2 threads / 1 thread (parallel clones): {} (goal for library / bwrap with 2 threads: >= 2x)",
        paired(&s[1], &s[0]).show("x")
    ));
}

fn host_size(env: &Env, rep: &mut Report) {
    rep.section("Host-size independence (library spawn + wait, ms)");
    let me = std::env::current_exe().unwrap();
    let n = if env.quick { 5 } else { 200 };
    let (mut small, mut large) = (Samples::default(), Samples::default());
    for _ in 0..if env.quick { 1 } else { 3 } {
        for (mib, into) in [(0, &mut small), (1024, &mut large)] {
            let out = Command::new(&me)
                .args(["lib-spawn", &n.to_string(), &mib.to_string()])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            into.0.extend(
                String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .map(|x| x.parse::<f64>().unwrap()),
            );
        }
    }
    rep.line(format!("small host: {}", small.show("ms")));
    rep.line(format!("host holding 1 GiB: {}", large.show("ms")));
    rep.line(format!(
        "ratio of medians: {:.3}x (goal <= 1.2x)",
        large.median() / small.median()
    ));
}

/// `harness lib-spawn N MIB`: spawn N sandboxes from a host holding MIB MiB; print ms each.
fn lib_spawn(n: usize, mib: usize) {
    let ballast: Vec<u8> = (0..mib << 20).map(|i| i as u8).collect();
    std::hint::black_box(&ballast);
    let mut c = Container::new();
    c.rootfs("/");
    assert!(c.command("/bin/true").status().unwrap().success());
    for _ in 0..n {
        let t = Instant::now();
        assert!(c.command("/bin/true").status().unwrap().success());
        println!("{:.4}", ms(t.elapsed()));
    }
}

/// Sandboxes per second when each of `threads` threads spawns and waits for `n` sandboxes
/// of `/bin/true` from `c`.
fn lib_rate(c: &Container, threads: usize, n: usize) -> f64 {
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..n {
                    assert!(c.command("/bin/true").status().unwrap().success());
                }
            });
        }
    });
    (threads * n) as f64 / t.elapsed().as_secs_f64()
}

/// `harness lib-rate THREADS N`: [`lib_rate`] of the library section's sandbox, printed.
/// For profiling.
fn lib_rate_cmd(threads: usize, n: usize) {
    let mut c = Container::new();
    c.rootfs("/");
    println!("{:.1}", lib_rate(&c, threads, n));
}

fn mounts(env: &Env, rep: &mut Report) {
    rep.section("Mount scaling (library spawn + wait with N read-only binds, ms)");
    rep.line("| binds | total | per bind |");
    rep.line("|---|---|---|");
    let rounds = if env.quick { 2 } else { 20 };
    let ns = [1usize, 10, 100, 1000];
    let cs: Vec<Container> = ns
        .iter()
        .map(|&n| {
            let mut c = Container::new();
            c.rootfs("/");
            for i in 0..n {
                c.bindmount_ro("/usr/share", format!("/m/{i}"));
            }
            c
        })
        .collect();
    let mut s = vec![Samples::default(); ns.len()];
    for _ in 0..rounds {
        for (i, c) in cs.iter().enumerate() {
            let t = Instant::now();
            assert!(c.command("/bin/true").status().unwrap().success());
            s[i].0.push(ms(t.elapsed()));
        }
    }
    for (n, s) in ns.iter().zip(&s) {
        rep.line(format!(
            "| {n} | {} | {:.4} ms |",
            s.show("ms"),
            s.median() / *n as f64
        ));
    }
    rep.line("Goal: 1,000 read-only binds under 20 ms in total, linear growth.");
}

fn install_time(prog: &[hakoniwa_seccomp::SockFilter]) -> f64 {
    let prog = prog.to_vec();
    std::thread::spawn(move || {
        hakoniwa_runtime::sys::prctl(hakoniwa_runtime::sys::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            .expect("no_new_privs");
        let t = Instant::now();
        hakoniwa_runtime::sys::seccomp_set_filter(&prog).expect("seccomp");
        t.elapsed().as_secs_f64() * 1e6
    })
    .join()
    .unwrap()
}

fn seccomp(env: &Env, rep: &mut Report) {
    rep.section("Seccomp");
    let p = hakoniwa_seccomp::podman_default(0);
    let ours = p.compile().unwrap().instructions;
    let lin = p.compile_linear_seccompiler().unwrap();
    let (mut a, mut b, mut gen) = (Samples::default(), Samples::default(), Samples::default());
    for _ in 0..if env.quick { 3 } else { 200 } {
        a.0.push(install_time(&ours));
        b.0.push(install_time(&lin));
        let t = Instant::now();
        std::hint::black_box(hakoniwa_seccomp::podman_default(0).compile().unwrap());
        gen.0.push(t.elapsed().as_secs_f64() * 1e6);
    }
    rep.line(format!(
        "install, default profile: ours ({} insns) {}; seccompiler linear ({} insns) {}",
        ours.len(),
        a.show("µs"),
        lin.len(),
        b.show("µs")
    ));
    rep.line(format!(
        "install ratio ours / seccompiler: {} (goal <= 0.3x)",
        paired(&a, &b).show("x")
    ));
    rep.line(format!(
        "BPF generation, default profile: {}",
        gen.show("µs")
    ));

    // Per-call cost inside a sandbox vs on the host.
    let lp = env.dir.join("syscall_loop");
    let n = if env.quick { "20000" } else { "2000000" };
    let run_in = |c: Option<&Container>| -> Vec<(String, f64)> {
        let out = match c {
            Some(c) => {
                let mut cmd = c.command(&lp);
                cmd.arg(n);
                let o = cmd.output().unwrap();
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                o.stdout
            }
            None => Command::new(&lp).arg(n).output().unwrap().stdout,
        };
        String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(' ')?;
                Some((k.to_owned(), v.parse().ok()?))
            })
            .collect()
    };
    let mut def = Container::new();
    def.rootfs("/").bindmount_ro(&env.dir, &env.dir);
    let mut unc = def.clone();
    unc.seccomp(hakoniwa::seccomp::Seccomp::Unconfined);
    let rounds = if env.quick { 1 } else { 5 };
    let mut table: Vec<(String, [Samples; 3])> = Vec::new();
    for _ in 0..rounds {
        for (j, c) in [None, Some(&unc), Some(&def)].into_iter().enumerate() {
            for (k, v) in run_in(c) {
                let row = match table.iter().position(|(n, _)| *n == k) {
                    Some(i) => i,
                    None => {
                        table.push((k, Default::default()));
                        table.len() - 1
                    }
                };
                table[row].1[j].0.push(v);
            }
        }
    }
    rep.line("");
    rep.line("| per call (ns) | host | sandbox, unconfined | sandbox, default profile |");
    rep.line("|---|---|---|---|");
    for (k, s) in &table {
        rep.line(format!(
            "| {k} | {} | {} | {} |",
            s[0].show("ns"),
            s[1].show("ns"),
            s[2].show("ns")
        ));
    }
}

/// Pss (KiB) of `pid` from smaps_rollup, VmHWM (KiB) and thread count from status.
fn memory_of(pid: u32) -> Option<(u64, u64, u64)> {
    let roll = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |text: &str, name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((
        field(&roll, "Pss:")?,
        field(&status, "VmHWM:")?,
        field(&status, "Threads:")?,
    ))
}

fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn supervisor(env: &Env, rep: &mut Report) {
    rep.section("Supervisor memory while `sleep` runs in the sandbox");
    let hk = env.hk.display().to_string();
    let mut tools = vec![("ours", words(&format!("{hk} run -- sleep 1")))];
    if env.have_bwrap {
        tools.push(("bwrap", bwrap_same_mounts("", "sleep 1")));
    }
    rep.line("| tool | Pss KiB (all supervisor processes) | VmHWM KiB | threads |");
    rep.line("|---|---|---|---|");
    for (name, argv) in tools {
        let (mut pss, mut hwm, mut thr) =
            (Samples::default(), Samples::default(), Samples::default());
        for _ in 0..if env.quick { 1 } else { 5 } {
            let mut child = Command::new(&argv[0]).args(&argv[1..]).spawn().unwrap();
            std::thread::sleep(Duration::from_millis(400));
            // Supervisors: the process we started and its descendants that are not `sleep`.
            let mut todo = vec![child.id()];
            let (mut p, mut h, mut t) = (0, 0, 0);
            while let Some(pid) = todo.pop() {
                let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                if comm.trim() == "sleep" {
                    continue;
                }
                if let Some((a, b, c)) = memory_of(pid) {
                    p += a;
                    h += b;
                    t += c;
                }
                todo.extend(children(pid));
            }
            pss.0.push(p as f64);
            hwm.0.push(h as f64);
            thr.0.push(t as f64);
            child.wait().unwrap();
        }
        rep.line(format!(
            "| {name} | {} | {} | {} |",
            pss.show("KiB"),
            hwm.show("KiB"),
            thr.show("")
        ));
    }
    rep.line("Goal: ours Pss <= 1.5 MiB.");
}

fn stages(env: &Env, rep: &mut Report) {
    rep.section("Setup stages (library, default sandbox, from `Child::enforcement().timings`, µs)");
    let mut c = Container::new();
    c.rootfs("/");
    let names = [
        "prepare", "clone", "idmap", "network", "release", "mounts", "identity", "confine", "exec",
        "total",
    ];
    let mut s = vec![Samples::default(); names.len()];
    for _ in 0..if env.quick { 3 } else { 200 } {
        let mut child = c.command("/bin/true").spawn().unwrap();
        let t = child.enforcement().timings;
        let v = [
            t.prepare, t.clone, t.idmap, t.network, t.release, t.mounts, t.identity, t.confine,
            t.exec, t.total,
        ];
        for (i, d) in v.iter().enumerate() {
            s[i].0.push(d.as_secs_f64() * 1e6);
        }
        child.wait().unwrap();
    }
    rep.line("| stage | median µs (p10, p90) |");
    rep.line("|---|---|");
    for (n, s) in names.iter().zip(&s) {
        rep.line(format!("| {n} | {} |", s.show("µs")));
    }
}

fn pasta(env: &Env, rep: &mut Report) {
    rep.section("pasta: sandbox with `--network pasta` vs bare `pasta --config-net`");
    if !env.have_pasta {
        rep.line("pasta not installed: skipped");
        return;
    }
    let hk = env.hk.display().to_string();
    let root = rustix::process::geteuid().is_root();
    let bare = if root {
        words("pasta --runas 0 --config-net -- /bin/true")
    } else {
        words("pasta --config-net -- /bin/true")
    };
    let cmds = vec![
        (
            "ours --network pasta".to_string(),
            words(&format!("{hk} run --network pasta -- /bin/true")),
        ),
        ("bare pasta".to_string(), bare),
    ];
    let s = interleave(&cmds, if env.quick { 1 } else { 20 });
    for ((n, _), s) in cmds.iter().zip(&s) {
        rep.line(format!("{n}: {}", s.show("ms")));
    }
    rep.line(format!("ratio: {}", paired(&s[0], &s[1]).show("x")));
}

fn sh(cmd: &str) -> String {
    Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// How an executable is linked, read from its ELF file: static or dynamic (a `PT_INTERP`
/// program header names the dynamic loader), PIE or not (`ET_DYN` or `ET_EXEC`), and its C
/// library (the loader's name; in a static file, glibc's start-up code carries the name of
/// its `GLIBC_TUNABLES` variable, which musl has no use for).
fn elf_kind(path: &Path) -> String {
    const ET_EXEC: u16 = 2;
    const ET_DYN: u16 = 3;
    const PT_INTERP: u32 = 3;
    let Ok(f) = std::fs::read(path) else {
        return "unreadable".into();
    };
    let u16_at = |o: usize| f.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        f.get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    };
    let u64_at = |o: usize| {
        f.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    // A 64-bit little-endian ELF file (x86_64 is the only architecture supported).
    if f.get(..6) != Some(&b"\x7fELF\x02\x01"[..]) {
        return "not a 64-bit little-endian ELF file".into();
    }
    let (Some(kind), Some(phoff), Some(phentsize), Some(phnum)) =
        (u16_at(16), u64_at(32), u16_at(54), u16_at(56))
    else {
        return "truncated ELF header".into();
    };
    let interp = (0..usize::from(phnum)).find_map(|i| {
        let ph = usize::try_from(phoff).ok()? + i * usize::from(phentsize);
        if u32_at(ph)? != PT_INTERP {
            return None;
        }
        let (off, size) = (
            usize::try_from(u64_at(ph + 8)?).ok()?,
            usize::try_from(u64_at(ph + 32)?).ok()?,
        );
        let name = f.get(off..off + size)?;
        Some(
            String::from_utf8_lossy(name)
                .trim_end_matches('\0')
                .to_string(),
        )
    });
    let pie = match kind {
        ET_EXEC => "non-PIE",
        ET_DYN => "PIE",
        _ => "neither an executable nor a shared object",
    };
    match interp {
        Some(loader) => {
            let libc = if loader.contains("musl") {
                "musl"
            } else {
                "glibc"
            };
            format!(
                "{libc}, dynamically linked ({loader}), {pie}: build it as bench/run.sh does to \
                 measure the release build"
            )
        }
        None => {
            let glibc = f.windows(14).any(|w| w == b"GLIBC_TUNABLES");
            let libc = if glibc { "glibc" } else { "musl" };
            format!("{libc}, statically linked, {pie}")
        }
    }
}

fn machine() -> String {
    let mut s = String::new();
    let _ = writeln!(s, "- date: {}", sh("date -u '+%Y-%m-%d %H:%M UTC'"));
    let _ = writeln!(
        s,
        "- CPU: {} ({} online)",
        sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
        sh("nproc")
    );
    let _ = writeln!(
        s,
        "- memory: {}",
        sh("grep MemTotal /proc/meminfo | tr -s ' '")
    );
    let _ = writeln!(s, "- kernel: {}", sh("uname -r"));
    let _ = writeln!(s, "- OS: {}", sh(". /etc/os-release; echo $PRETTY_NAME"));
    let _ = writeln!(
        s,
        "- load average at start: {}",
        sh("cut -d' ' -f1-3 /proc/loadavg")
    );
    let _ = writeln!(
        s,
        "- tools: {}; {}; {}",
        sh("bwrap --version"),
        sh("unshare --version"),
        sh("pasta --version 2>&1 | head -1")
    );
    let _ = writeln!(s, "- user: uid {}", rustix::process::geteuid().as_raw());
    s
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("lib-spawn") {
        lib_spawn(args[1].parse().unwrap(), args[2].parse().unwrap());
        return;
    }
    if args.first().map(String::as_str) == Some("lib-rate") {
        lib_rate_cmd(args[1].parse().unwrap(), args[2].parse().unwrap());
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let out = args
        .iter()
        .position(|a| a == "--out")
        .map(|i| PathBuf::from(&args[i + 1]));
    let dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let which = |p: &str| !sh(&format!("command -v {p}")).is_empty();
    // The floor's filter: the default profile for the program's capability set; a root
    // caller's default sandbox reaches host root, so it also gets the set-id rules and
    // loses CAP_SETFCAP (as the engine does).
    let root = rustix::process::geteuid().is_root();
    let setfcap = hakoniwa_seccomp::caps::cap_mask(&["CAP_SETFCAP"]);
    let caps = if root {
        hakoniwa::caps::DEFAULT & !setfcap
    } else {
        0
    };
    let mut policy = hakoniwa_seccomp::podman_default(caps);
    if root {
        hakoniwa_seccomp::setid::deny_setid_modes(&mut policy).unwrap();
    }
    let prog = policy.compile().unwrap().instructions;
    let filter_file =
        std::env::temp_dir().join(format!("hakoniwa-bench-filter-{}", std::process::id()));
    let bytes: Vec<u8> = prog
        .iter()
        .flat_map(|f| {
            let mut b = f.code.to_ne_bytes().to_vec();
            b.extend([f.jt, f.jf]);
            b.extend(f.k.to_ne_bytes());
            b
        })
        .collect();
    std::fs::write(&filter_file, bytes).unwrap();
    let env = Env {
        quick,
        hk: std::env::var_os("HK_CLI").map_or_else(|| dir.join("hakoniwa"), PathBuf::from),
        floor: std::env::var_os("HK_FLOOR").map_or_else(|| dir.join("floor"), PathBuf::from),
        have_bwrap: which("bwrap"),
        have_pasta: which("pasta"),
        dir,
        filter_file: filter_file.clone(),
    };
    assert!(env.hk.exists(), "build the CLI first: {}", env.hk.display());
    let mut rep = Report {
        text: String::new(),
    };
    rep.line("# Benchmarks");
    rep.line("");
    rep.line(format!(
        "Generated by `bash bench/run.sh`{} (the `bench/` harness). Medians with p10/p90 over \
         interleaved samples (a new order every round); ratios are per-round paired ratios \
         where commands alternate. Absolute times depend on the machine and its load; \
         compare ratios.",
        if quick {
            " in quick mode (few samples: proves the harness works, not the numbers)"
        } else {
            ""
        }
    ));
    rep.line("");
    rep.line("Machine:");
    rep.line("");
    rep.line(machine());
    rep.line(format!(
        "- CLI binary: {} ({})",
        env.hk.display(),
        elf_kind(&env.hk)
    ));
    rep.line(format!(
        "- floor binary: {} ({})",
        env.floor.display(),
        elf_kind(&env.floor)
    ));
    if let Some(base) = std::env::var_os("HK_BASELINE") {
        rep.line(format!(
            "- baseline CLI binary (HK_BASELINE): {} ({})",
            Path::new(&base).display(),
            elf_kind(Path::new(&base))
        ));
    }
    // HK_BENCH_ONLY=startup,mounts runs only the named sections.
    let only = std::env::var("HK_BENCH_ONLY").unwrap_or_default();
    type Section = fn(&Env, &mut Report);
    let sections: [(&str, Section); 9] = [
        ("startup", startup),
        ("throughput", throughput),
        ("library", library),
        ("host_size", host_size),
        ("mounts", mounts),
        ("seccomp", seccomp),
        ("supervisor", supervisor),
        ("stages", stages),
        ("pasta", pasta),
    ];
    for (name, run) in sections {
        if only.is_empty() || only.split(',').any(|o| o == name) {
            run(&env, &mut rep);
        }
    }
    rep.line("");
    rep.line(format!(
        "Load average at the end: {}",
        sh("cut -d' ' -f1-3 /proc/loadavg")
    ));
    let _ = std::fs::remove_file(&filter_file);
    if let Some(path) = out {
        let _ = std::fs::create_dir_all(Path::new(&path).parent().unwrap_or(Path::new(".")));
        std::fs::write(&path, &rep.text).unwrap();
        eprintln!("wrote {}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::{elf_kind, round_order};

    #[test]
    fn every_round_runs_each_command_once_behind_varying_predecessors() {
        let n = 9;
        let mut firsts = std::collections::HashSet::new();
        let mut predecessors = vec![std::collections::HashSet::new(); n];
        for r in 0..200 {
            let order = round_order(n, r);
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "round {r}: {order:?}");
            firsts.insert(order[0]);
            for w in order.windows(2) {
                predecessors[w[1]].insert(w[0]);
            }
        }
        // Over 200 rounds every command comes first at times and runs behind every other.
        assert_eq!(firsts.len(), n);
        for (i, p) in predecessors.iter().enumerate() {
            assert_eq!(p.len(), n - 1, "command {i} ran only behind {p:?}");
        }
        // The same sequence in every run (reports stay comparable).
        assert_eq!(round_order(n, 7), round_order(n, 7));
        assert_eq!(round_order(1, 3), vec![0]);
        assert!(round_order(0, 3).is_empty());
    }

    /// A 64-bit x86_64 ELF header of type `kind` with no program headers, then `tail`.
    fn elf(kind: u16, tail: &[u8]) -> Vec<u8> {
        let mut f = b"\x7fELF\x02\x01\x01".to_vec();
        f.resize(64, 0);
        f[16..18].copy_from_slice(&kind.to_le_bytes());
        f[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
        f[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize, e_phnum = 0
        f.extend_from_slice(tail);
        f
    }

    #[test]
    fn the_report_says_how_the_measured_cli_is_linked() {
        let dir = std::env::temp_dir().join(format!("hk-bench-elf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let kind_of = |name: &str, bytes: &[u8]| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            elf_kind(&p)
        };
        let musl = kind_of("musl", &elf(2, b"no C library's name here"));
        let glibc = kind_of("glibc", &elf(3, b"..GLIBC_TUNABLES.."));
        let script = kind_of("script", b"#!/bin/sh\n");
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(musl, "musl, statically linked, non-PIE");
        assert_eq!(glibc, "glibc, statically linked, PIE");
        assert_eq!(script, "not a 64-bit little-endian ELF file");
        // This test program as cargo builds it for the gnu target: glibc's loader named in
        // PT_INTERP.
        let me = elf_kind(&std::env::current_exe().unwrap());
        if cfg!(target_env = "gnu") {
            assert!(
                me.starts_with("glibc, dynamically linked (/lib64/ld-linux-x86-64.so.2), PIE"),
                "{me}"
            );
        }
    }
}
