//! Finding profiles: `-c FILE`, `-c NAME` (looked up in the user's and the system's profile
//! directories, then among the profiles built into the binary), `-c -` (standard input), and
//! `hakoniwa profiles`, which lists what `-c NAME` can find.

use std::path::{Component, Path, PathBuf};

/// The shipped abstractions and examples (`cli/profiles`), embedded in the binary. Every
/// `.toml` file under `cli/profiles` must be listed (a test checks it).
const BUILTIN: &[(&str, &str)] = &[
    (
        "abstractions/audio.toml",
        include_str!("../profiles/abstractions/audio.toml"),
    ),
    (
        "abstractions/base.toml",
        include_str!("../profiles/abstractions/base.toml"),
    ),
    (
        "abstractions/dbus.toml",
        include_str!("../profiles/abstractions/dbus.toml"),
    ),
    (
        "abstractions/devices.toml",
        include_str!("../profiles/abstractions/devices.toml"),
    ),
    (
        "abstractions/network.toml",
        include_str!("../profiles/abstractions/network.toml"),
    ),
    (
        "abstractions/network-none.toml",
        include_str!("../profiles/abstractions/network-none.toml"),
    ),
    (
        "abstractions/network-pasta.toml",
        include_str!("../profiles/abstractions/network-pasta.toml"),
    ),
    (
        "abstractions/wayland.toml",
        include_str!("../profiles/abstractions/wayland.toml"),
    ),
    (
        "abstractions/x11.toml",
        include_str!("../profiles/abstractions/x11.toml"),
    ),
    (
        "examples/offline.toml",
        include_str!("../profiles/examples/offline.toml"),
    ),
    (
        "examples/shell.toml",
        include_str!("../profiles/examples/shell.toml"),
    ),
    (
        "examples/web-client.toml",
        include_str!("../profiles/examples/web-client.toml"),
    ),
];

/// Where a profile's text comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file on the host (canonical path).
    File(PathBuf),
    /// A built-in profile, by its path under `cli/profiles` (`examples/shell.toml`).
    Builtin(String),
    /// Standard input (`-c -`); includes are relative to the current directory.
    Stdin,
    /// A file that is not a regular one, read once to its end: a pipe such as bash's
    /// `-c <(...)` (`/dev/fd/63`). Includes are relative to the current directory.
    Stream(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File(p) => write!(f, "{}", p.display()),
            Origin::Builtin(p) => write!(f, "<built-in>/{p}"),
            Origin::Stdin => f.write_str("<stdin>"),
            Origin::Stream(p) => write!(f, "{}", p.display()),
        }
    }
}

impl Origin {
    /// The profile's text.
    pub fn read(&self) -> Result<String, String> {
        match self {
            Origin::File(p) | Origin::Stream(p) => {
                std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
            }
            Origin::Builtin(p) => builtin(p)
                .map(str::to_string)
                .ok_or_else(|| format!("no built-in profile {p}")),
            Origin::Stdin => {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| format!("<stdin>: {e}"))?;
                Ok(s)
            }
        }
    }

    /// The directory `__dir__` names and relative paths start from (a built-in profile has
    /// none on the host: its `__dir__` is the current directory).
    pub fn dir(&self) -> PathBuf {
        match self {
            Origin::File(p) => p.parent().unwrap_or(Path::new("/")).to_path_buf(),
            Origin::Builtin(_) | Origin::Stdin | Origin::Stream(_) => {
                std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
            }
        }
    }

    /// Resolve an `@include` of this profile.
    pub fn include(&self, name: &str) -> Result<Origin, String> {
        let missing = |what: String| format!("{self}: cannot include {name:?}: {what}");
        match self {
            Origin::Builtin(p) => {
                let parent = Path::new(p).parent().unwrap_or(Path::new(""));
                let joined = normalize(&parent.join(name));
                builtin(&joined)
                    .map(|_| Origin::Builtin(joined.clone()))
                    .ok_or_else(|| missing(format!("no built-in profile {joined}")))
            }
            _ => {
                let path = self.dir().join(name);
                std::fs::canonicalize(&path).map(Origin::File).or_else(|e| {
                    // Not next to the profile: a profile of that name (an example copied
                    // into ~/.config/hakoniwa/profiles still includes
                    // "../abstractions/base.toml", which is then the built-in one).
                    let by_name = name.trim_start_matches("./").trim_start_matches("../");
                    find_by_name(by_name, &search_dirs()).ok_or_else(|| {
                        missing(format!(
                            "{}: {}, and no profile is named {:?}",
                            path.display(),
                            crate::strerror::io_text(&e),
                            by_name.strip_suffix(".toml").unwrap_or(by_name)
                        ))
                    })
                })
            }
        }
    }
}

/// `a/b/../c` → `a/c` (without touching the file system).
fn normalize(p: &Path) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(s) => out.push(s.to_str().unwrap_or_default()),
            _ => {}
        }
    }
    out.join("/")
}

fn builtin(path: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(p, _)| *p == path).map(|(_, t)| *t)
}

/// The name `-c NAME` finds a built-in profile by: `examples/shell.toml` → `shell`,
/// `abstractions/base.toml` → `abstractions/base`.
fn builtin_name(path: &str) -> String {
    let p = path.strip_suffix(".toml").unwrap_or(path);
    p.strip_prefix("examples/").unwrap_or(p).to_string()
}

/// The profile directories searched by name, in order, with a label for listings.
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    // Absolute paths only (the XDG base directory spec says to ignore a relative one): a
    // relative or empty value would look profiles up in the current directory.
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".config"))
                .filter(|p| p.is_absolute())
        });
    if let Some(c) = config {
        dirs.push(c.join("hakoniwa/profiles"));
    }
    dirs.push(PathBuf::from("/etc/hakoniwa/profiles"));
    dirs
}

/// Find a profile by name in `dirs`, then among the built-in ones.
fn find_by_name(name: &str, dirs: &[PathBuf]) -> Option<Origin> {
    let name = name.strip_suffix(".toml").unwrap_or(name);
    if name.is_empty()
        || Path::new(name)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    for d in dirs {
        let p = d.join(format!("{name}.toml"));
        if p.is_file() {
            return std::fs::canonicalize(&p).ok().map(Origin::File);
        }
    }
    BUILTIN
        .iter()
        .find(|(p, _)| builtin_name(p) == name)
        .map(|(p, _)| Origin::Builtin(p.to_string()))
}

/// The file `-c PATH` names, if it exists and is not a directory: a regular file by its
/// canonical path, anything else (a pipe from `<(...)`) as given.
fn as_file(path: &Path) -> Option<Result<Origin, String>> {
    let meta = std::fs::metadata(path).ok().filter(|m| !m.is_dir())?;
    Some(if meta.is_file() {
        std::fs::canonicalize(path)
            .map(Origin::File)
            .map_err(|e| format!("{}: {}", path.display(), crate::strerror::io_text(&e)))
    } else {
        Ok(Origin::Stream(path.to_path_buf()))
    })
}

/// What `-c ARG` means: `-` is standard input; a path starting with `/`, `./` or `../` is
/// that file; anything else is a profile name, or a file when no profile has that name.
/// When it is both (and they differ) it is an error: the directory one happens to be in
/// (a downloaded project, say) must not replace the profile a name stands for.
pub fn locate(arg: &str) -> Result<Origin, String> {
    if arg == "-" {
        return Ok(Origin::Stdin);
    }
    let path = Path::new(arg);
    let file = as_file(path).transpose()?;
    if ["/", "./", "../"].iter().any(|p| arg.starts_with(p)) {
        return file.ok_or_else(|| match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => format!("no profile {arg:?}: a directory, not a file"),
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                format!("no profile {arg:?}: {}", crate::strerror::io_text(&e))
            }
            _ => format!("no profile {arg:?}: no such file"),
        });
    }
    let dirs = search_dirs();
    match (file, find_by_name(arg, &dirs)) {
        (Some(f), Some(named)) if f != named => Err(format!(
            "-c {arg}: ambiguous: {f} is a file here, and {arg:?} is also the name of the profile {named}; \
             write ./{arg} for the file"
        )),
        (Some(f), _) => Ok(f),
        (None, Some(named)) => Ok(named),
        (None, None) => {
            let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            Err(format!(
                "no profile {arg:?}: not a file, and not a name found in {} or the built-in profiles (`hakoniwa profiles` lists them)",
                searched.join(", ")
            ))
        }
    }
}

/// Every `NAME.toml` under `dir` (recursively), as `(NAME, path)`, sorted. Links to
/// directories are followed (a profile directory may link a shared one) but each directory
/// is entered once, so a link back up (`loop -> .`) neither repeats every name ~40 times nor,
/// with two such links, makes the walk exponential.
fn list_dir(dir: &Path) -> Vec<(String, PathBuf)> {
    use std::os::unix::fs::MetadataExt;
    fn walk(
        root: &Path,
        dir: &Path,
        seen: &mut std::collections::HashSet<(u64, u64)>,
        out: &mut Vec<(String, PathBuf)>,
    ) {
        let Ok(meta) = std::fs::metadata(dir) else {
            return;
        };
        if !seen.insert((meta.dev(), meta.ino())) {
            return;
        }
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, seen, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                if let Ok(rel) = p.strip_prefix(root) {
                    let name = rel.with_extension("").display().to_string();
                    out.push((name, p));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut Default::default(), &mut out);
    out.sort();
    out
}

/// `hakoniwa profiles`: every profile `-c NAME` can find, with where it comes from; a name
/// found in several places is listed once per place, the shadowed ones marked.
pub fn main() -> i32 {
    let mut seen = std::collections::BTreeSet::new();
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut add = |name: String, source: String| {
        let shadowed = !seen.insert(name.clone());
        let source = if shadowed {
            format!("{source} (shadowed)")
        } else {
            source
        };
        rows.push((name, source));
    };
    for d in search_dirs() {
        for (name, p) in list_dir(&d) {
            add(name, p.display().to_string());
        }
    }
    for (p, _) in BUILTIN {
        add(builtin_name(p), format!("built-in ({p})"));
    }
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (name, source) in rows {
        out.push_str(&format!("{name:width$}  {source}\n"));
    }
    print!("{out}");
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_profile_is_built_in() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
        let mut on_disk: Vec<String> = list_dir(&root)
            .into_iter()
            .map(|(n, _)| format!("{n}.toml"))
            .collect();
        on_disk.sort();
        let built_in: Vec<String> = BUILTIN.iter().map(|(p, _)| p.to_string()).collect();
        let mut sorted = built_in.clone();
        sorted.sort();
        assert_eq!(on_disk, sorted);
        for (p, text) in BUILTIN {
            assert_eq!(std::fs::read_to_string(root.join(p)).unwrap(), *text);
        }
    }

    #[test]
    fn a_name_is_looked_up_in_order_then_built_in() {
        let base = std::env::temp_dir().join(format!("hk-profiles-unit-{}", std::process::id()));
        let (a, b) = (base.join("a"), base.join("b"));
        std::fs::create_dir_all(a.join("sub")).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("p.toml"), "").unwrap();
        std::fs::write(b.join("shell.toml"), "").unwrap();
        std::fs::write(a.join("sub/p.toml"), "").unwrap();
        let dirs = [a.clone(), b.clone()];
        let canon = |p: PathBuf| Origin::File(std::fs::canonicalize(p).unwrap());
        assert_eq!(find_by_name("p", &dirs), Some(canon(b.join("p.toml"))));
        assert_eq!(
            find_by_name("sub/p", &dirs),
            Some(canon(a.join("sub/p.toml")))
        );
        // A user's profile shadows a built-in one of the same name.
        assert_eq!(
            find_by_name("shell", &dirs),
            Some(canon(b.join("shell.toml")))
        );
        assert_eq!(
            find_by_name("offline", &dirs),
            Some(Origin::Builtin("examples/offline.toml".into()))
        );
        assert_eq!(
            find_by_name("abstractions/base", &dirs),
            Some(Origin::Builtin("abstractions/base.toml".into()))
        );
        assert_eq!(find_by_name("../b/p", &dirs), None);
        assert_eq!(find_by_name("nope", &dirs), None);
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn built_in_includes_resolve_inside_the_built_in_tree() {
        let o = Origin::Builtin("examples/shell.toml".into());
        assert_eq!(
            o.include("../abstractions/base.toml").unwrap(),
            Origin::Builtin("abstractions/base.toml".into())
        );
        let e = o.include("../abstractions/nope.toml").unwrap_err();
        assert!(
            e.starts_with("<built-in>/examples/shell.toml: cannot include"),
            "{e}"
        );
    }
}
