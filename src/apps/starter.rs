//! `promptship apps new NAME`: a commented starter app that passes `promptship apps check`.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use super::load::valid_name;

/// The starter file, with `NAME` where the app's name goes.
pub const STARTER: &str = include_str!("starter.prompt");

/// Writes `dir/NAME.prompt` (creating `dir`), never over an existing file; the path
/// written, or why not.
pub fn write_starter(dir: &Path, name: &str) -> Result<PathBuf, String> {
    if !valid_name(name) {
        return Err(format!(
            "`{name}` is not a valid app name: use lowercase letters, digits and `-`, e.g. `study-notes`"
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {} ({e})", dir.display()))?;
    let path = dir.join(format!("{name}.prompt"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!(
                "{} already exists: not overwritten (choose another name, or edit that file)",
                path.display()
            ),
            _ => format!("cannot write {} ({e})", path.display()),
        })?;
    file.write_all(STARTER.replace("NAME", name).as_bytes())
        .map_err(|e| format!("cannot write {} ({e})", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_is_written_once_and_never_over_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let apps = dir.path().join("apps");
        let path = write_starter(&apps, "notes").unwrap();
        assert_eq!(path, apps.join("notes.prompt"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("name: notes") && !text.contains("NAME"),
            "{text}"
        );

        std::fs::write(&path, "mine").unwrap();
        let err = write_starter(&apps, "notes").unwrap_err();
        assert!(err.contains("already exists"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");

        assert!(
            write_starter(&apps, "Bad Name")
                .unwrap_err()
                .contains("not a valid app name")
        );
    }
}
