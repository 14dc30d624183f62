//! The program's environment: clean, plus the two variables daily use needs.
//!
//! Nothing is inherited from the caller except what is asked for (`-e`, profile `envs`),
//! with two defaults a program can hardly do without:
//! - `PATH` = [`hakoniwa::DEFAULT_PATH`] unless given: compilers and shells run helpers by
//!   name (`cc` runs `ld`), so an empty `PATH` breaks them;
//! - `TERM` = the caller's `TERM` when one of stdin, stdout, stderr is a terminal (the
//!   program then gets one: the relayed pseudo-terminal or, with `--no-pty`, the caller's)
//!   and `TERM` is set and not given: full-screen programs and colour output need it, and it
//!   says nothing about the caller beyond the terminal.

/// The environment to pass: `given` (in order), then the defaults it lacks.
pub fn default_env(given: &[(String, String)], on_a_terminal: bool) -> Vec<(String, String)> {
    let mut env = given.to_vec();
    let has = |env: &[(String, String)], k: &str| env.iter().any(|(n, _)| n == k);
    if !has(&env, "PATH") {
        env.push(("PATH".into(), hakoniwa::DEFAULT_PATH.into()));
    }
    if on_a_terminal && !has(&env, "TERM") {
        if let Ok(term) = std::env::var("TERM") {
            env.push(("TERM".into(), term));
        }
    }
    env
}

/// Whether one of the CLI's stdin, stdout, stderr (which the program inherits, or gets a
/// pseudo-terminal in place of) is a terminal.
pub fn a_stream_is_terminal() -> bool {
    stdio_terminals().contains(&true)
}

/// Which of the CLI's stdin, stdout, stderr is a terminal, asked once (`hakoniwa` never
/// replaces its own standard streams).
pub fn stdio_terminals() -> [bool; 3] {
    static ONCE: std::sync::OnceLock<[bool; 3]> = std::sync::OnceLock::new();
    *ONCE.get_or_init(|| {
        use std::io::IsTerminal;
        [
            std::io::stdin().is_terminal(),
            std::io::stdout().is_terminal(),
            std::io::stderr().is_terminal(),
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_path_is_kept_and_the_default_is_not_added() {
        let env = default_env(&[("PATH".into(), "/x".into())], false);
        assert_eq!(env, [("PATH".to_string(), "/x".to_string())]);
    }

    #[test]
    fn term_is_not_passed_without_a_terminal() {
        let env = default_env(&[], false);
        assert!(env.iter().all(|(k, _)| k != "TERM"), "{env:?}");
    }
}
