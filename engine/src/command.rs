//! `Command`: one program to run in a [`Container`], shaped like `std::process::Command`.
//!
//! Defaults: the environment is empty (nothing is inherited), the working directory is `/`
//! when the sandbox has its own root, stdio is inherited for `spawn`/`status` and piped
//! (stdin null) for `output`, no wall-clock limit.

use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::child::{Child, Output};
use crate::container::Container;
use crate::enforcement::Enforcement;
use crate::error::{Error, Result};
use crate::exit_status::ExitStatus;
use crate::process_spec::ProcessSpec;
use crate::stdio::{Stdio, StdioKind, Streams};

impl Container {
    /// A command to run in this sandbox. The command holds its own copy of the container.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        Command::new(self.clone(), program.as_ref())
    }
}

/// A program, its arguments and environment, bound to a sandbox configuration.
///
/// # Examples
/// ```no_run
/// use hakoniwa::Container;
/// let out = Container::new().rootfs("/").command("/bin/echo").arg("hi").output().unwrap();
/// assert_eq!(out.stdout, b"hi\n");
/// ```
#[derive(Debug)]
pub struct Command {
    pub(crate) container: Container,
    pub(crate) program: OsString,
    pub(crate) args: Vec<OsString>,
    pub(crate) envs: Vec<(OsString, OsString)>,
    pub(crate) cwd: Option<PathBuf>,
    pub(crate) stdin: Option<Stdio>,
    pub(crate) stdout: Option<Stdio>,
    pub(crate) stderr: Option<Stdio>,
    pub(crate) extra_fds: Vec<(OwnedFd, i32)>,
    pub(crate) wait_timeout: Option<Duration>,
    pub(crate) controlling_terminal: bool,
}

impl Command {
    pub(crate) fn new(container: Container, program: &OsStr) -> Self {
        Command {
            container,
            program: program.to_os_string(),
            args: Vec::new(),
            envs: Vec::new(),
            cwd: None,
            stdin: None,
            stdout: None,
            stderr: None,
            extra_fds: Vec::new(),
            wait_timeout: None,
            controlling_terminal: false,
        }
    }

    /// Add an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    /// Add arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for a in args {
            self.arg(a);
        }
        self
    }

    /// Set an environment variable (replacing an earlier value).
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        let key = key.as_ref().to_os_string();
        self.envs.retain(|(k, _)| *k != key);
        self.envs.push((key, value.as_ref().to_os_string()));
        self
    }

    /// Set several environment variables.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        for (k, v) in vars {
            self.env(k, v);
        }
        self
    }

    /// Remove a variable set earlier.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        self.envs.retain(|(k, _)| k != key.as_ref());
        self
    }

    /// Remove all variables set earlier.
    pub fn env_clear(&mut self) -> &mut Self {
        self.envs.clear();
        self
    }

    /// Working directory inside the sandbox.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Standard input.
    pub fn stdin(&mut self, s: impl Into<Stdio>) -> &mut Self {
        self.stdin = Some(s.into());
        self
    }

    /// Standard output.
    pub fn stdout(&mut self, s: impl Into<Stdio>) -> &mut Self {
        self.stdout = Some(s.into());
        self
    }

    /// Standard error.
    pub fn stderr(&mut self, s: impl Into<Stdio>) -> &mut Self {
        self.stderr = Some(s.into());
        self
    }

    /// Pass an open descriptor to the program as descriptor number `target` (>= 3).
    pub fn preserve_fd(&mut self, fd: OwnedFd, target: i32) -> &mut Self {
        self.extra_fds.retain(|(_, t)| *t != target);
        self.extra_fds.push((fd, target));
        self
    }

    /// Wall-clock limit (millisecond precision): when it expires the whole sandbox is
    /// killed and the status reason is `WallTimeExceeded`.
    pub fn wait_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.wait_timeout = Some(timeout);
        self
    }

    /// Run the sandbox in a session of its own whose controlling terminal is the first of
    /// the program's stdin, stdout, stderr that is a terminal (in that order), which must
    /// be no session's controlling terminal yet: typically the slave of a pseudo-terminal
    /// the caller opened and relays (the CLI does this when any of its standard streams is
    /// a terminal; with stdin a pipe, only stdout and stderr get the slave). The program's
    /// process group is that terminal's foreground, so Ctrl-C and Ctrl-Z typed there (or
    /// sent with `TIOCSIG` on the master) reach it, and no process in the sandbox can reach
    /// the caller's own terminal. When the program stops on a terminal stop signal,
    /// [`crate::Child::on_terminal_stop`] says what the supervisor does.
    ///
    /// When none of the three streams is a terminal the spawn is refused; a terminal that
    /// is another session's controlling terminal fails setup at the `session` stage
    /// (`EPERM`).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use hakoniwa::{Container, Stdio};
    /// # fn pty_slave() -> std::os::fd::OwnedFd { unimplemented!() }
    /// // The slave of a pseudo-terminal whose master the caller relays (e.g. from openpty).
    /// let slave = pty_slave();
    /// let mut child = Container::new()
    ///     .rootfs("/")
    ///     .command("/bin/sh")
    ///     .stdin(Stdio::from(slave.try_clone()?))
    ///     .stdout(Stdio::from(slave.try_clone()?))
    ///     .stderr(Stdio::from(slave))
    ///     .controlling_terminal(true)
    ///     .spawn()?;
    /// // Ctrl-Z typed in the terminal: let the program go on at once, in the foreground.
    /// child.on_terminal_stop(|_sig| true);
    /// child.wait()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # References
    /// - [credentials(7)](https://man7.org/linux/man-pages/man7/credentials.7.html)
    /// - [TIOCSCTTY in ioctl_tty(2)](https://man7.org/linux/man-pages/man2/TIOCSCTTY.2const.html)
    pub fn controlling_terminal(&mut self, on: bool) -> &mut Self {
        self.controlling_terminal = on;
        self
    }

    /// The program as given.
    pub fn get_program(&self) -> &OsStr {
        &self.program
    }

    /// The arguments (without the program).
    pub fn get_args(&self) -> impl Iterator<Item = &OsStr> {
        self.args.iter().map(|a| a.as_os_str())
    }

    /// The container this command runs in.
    pub fn container(&self) -> &Container {
        &self.container
    }

    /// This spawn's copy of a stdio setting: the command keeps its own, so it can be
    /// spawned again with the same settings (a caller's descriptor is duplicated).
    fn stdio_for_spawn(slot: &Option<Stdio>, default: fn() -> Stdio) -> Result<StdioKind> {
        Ok(match slot {
            None => default().0,
            Some(Stdio(StdioKind::Inherit)) => StdioKind::Inherit,
            Some(Stdio(StdioKind::Null)) => StdioKind::Null,
            Some(Stdio(StdioKind::Piped)) => StdioKind::Piped,
            Some(Stdio(StdioKind::Fd(fd))) => {
                StdioKind::Fd(fd.try_clone().map_err(|e| Error::io("dup", e))?)
            }
        })
    }

    /// Start the program. Setup failures (before `execve`) are returned here as
    /// [`crate::Error::Setup`] with the stage and errno.
    ///
    /// The command is unchanged: like `std::process::Command`, it can be spawned again with
    /// the same settings (descriptors given to [`Command::stdin`] and friends or to
    /// [`Command::preserve_fd`] are duplicated for each spawn; the command's own copies are
    /// closed when it is dropped).
    pub fn spawn(&mut self) -> Result<Child> {
        self.spawn_with(Stdio::inherit, Stdio::inherit, Stdio::inherit)
    }

    /// What this command contributes to one spawn, with `i`, `o`, `e` as the defaults of
    /// the streams not set.
    fn spec(
        &self,
        i: fn() -> Stdio,
        o: fn() -> Stdio,
        e: fn() -> Stdio,
    ) -> Result<ProcessSpec<'_>> {
        let std = [
            Self::stdio_for_spawn(&self.stdin, i)?,
            Self::stdio_for_spawn(&self.stdout, o)?,
            Self::stdio_for_spawn(&self.stderr, e)?,
        ];
        let preserved = self
            .extra_fds
            .iter()
            .map(|(fd, target)| Ok((fd.try_clone().map_err(|e| Error::io("dup", e))?, *target)))
            .collect::<Result<Vec<_>>>()?;
        Ok(ProcessSpec {
            program: &self.program,
            args: &self.args,
            envs: &self.envs,
            cwd: self.cwd.as_deref(),
            streams: Streams { std, preserved },
            wait_timeout: self.wait_timeout,
            controlling_terminal: self.controlling_terminal,
        })
    }

    fn spawn_with(
        &mut self,
        i: fn() -> Stdio,
        o: fn() -> Stdio,
        e: fn() -> Stdio,
    ) -> Result<Child> {
        crate::spawn::spawn(&self.container, self.spec(i, o, e)?)
    }

    /// Check the configuration and build the complete plan of a spawn without spawning:
    /// every configuration error [`Command::spawn`] would return before starting the
    /// sandbox ([`crate::Error::Config`], [`crate::Error::Landlock`], [`crate::Error::Seccomp`]
    /// ...) is returned here, and nothing is started.
    ///
    /// Returns what the sandbox would enforce, as [`crate::Child::enforcement`] reports it
    /// after a spawn; of its [`Enforcement::timings`] only `prepare` is set. The plan
    /// depends on the host at this moment (the files the mounts name, the landlock ABI,
    /// whether stdin is a terminal), so a spawn later can still fail if the host changes,
    /// and errors that only the kernel can report (a mount that fails, a missing program)
    /// come from `spawn` alone.
    ///
    /// # Examples
    /// ```no_run
    /// use hakoniwa::{Container, ErrorKind};
    /// let mut c = Container::new();
    /// c.hostname("a name longer than sixty-four bytes is refused before anything runs .....");
    /// let err = c.command("/bin/true").prepare().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Config);
    /// ```
    pub fn prepare(&self) -> Result<Enforcement> {
        crate::spawn::prepare(
            &self.container,
            self.spec(Stdio::inherit, Stdio::inherit, Stdio::inherit)?,
        )
    }

    /// Run to completion with inherited stdio and return the status.
    pub fn status(&mut self) -> Result<ExitStatus> {
        self.spawn()?.wait()
    }

    /// Run to completion, capturing stdout and stderr (stdin is `/dev/null` unless set).
    /// Both streams are drained concurrently, so large outputs cannot deadlock.
    pub fn output(&mut self) -> Result<Output> {
        self.spawn_for_output()?.wait_with_output()
    }

    /// Start the program with `output`'s defaults (stdin `/dev/null`, stdout and stderr
    /// piped, unless set), e.g. to read [`Child::enforcement`] before
    /// [`Child::wait_with_output`].
    pub fn spawn_for_output(&mut self) -> Result<Child> {
        self.spawn_with(Stdio::null, Stdio::piped, Stdio::piped)
    }
}
