//! An uploaded file of inputs (CSV with a header row, or JSON Lines) read into checked
//! inputs: every row is checked, and every bad row is reported with its number, so that
//! one upload shows the whole list of what to fix.

use serde_json::{Map, Value};

use super::Target;
use crate::i18n::{Arg, Text};

/// How the inputs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated, the first row naming the fields.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The format a file's name says, `.csv` or `.jsonl` (`.ndjson`, `.json`).
    pub fn of_file(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Format::Csv)
        } else if [".jsonl", ".ndjson", ".json"]
            .iter()
            .any(|ext| lower.ends_with(ext))
        {
            Some(Format::Jsonl)
        } else {
            None
        }
    }
}

/// What is wrong with one row: the line of the file it starts on, as an editor numbers
/// them (a CSV's header is row 1) and each problem.
#[derive(Clone, Debug, PartialEq)]
pub struct RowError {
    pub row: usize,
    pub problems: Vec<Text>,
}

/// Why an upload is refused as a whole.
#[derive(Debug, PartialEq)]
pub enum UploadError {
    /// The bytes are not UTF-8 (the line of the first bad byte).
    NotUtf8 { line: usize },
    /// More rows than `BATCH_MAX_ROWS`.
    TooManyRows { max: usize },
    /// No input in the file.
    Empty,
    /// The CSV header names columns the target does not take, or cannot be read.
    Header(Text),
    /// Rows that fail the target's schema, every one of them.
    Rows(Vec<RowError>),
}

impl UploadError {
    /// What the form says of it, above the bad rows.
    pub fn text(&self) -> Text {
        match self {
            UploadError::NotUtf8 { line } => Text::new("upload-not-utf8").arg("line", *line),
            UploadError::TooManyRows { max } => Text::new("upload-too-many-rows").arg("max", *max),
            UploadError::Empty => Text::new("upload-empty"),
            UploadError::Header(problem) => problem.clone(),
            UploadError::Rows(rows) => Text::new("upload-rows").arg("count", rows.len()),
        }
    }
}

/// The file's inputs, each checked against `target`, in order; nothing unless every row
/// passes.
pub fn read_inputs(
    bytes: &[u8],
    format: Format,
    target: &Target<'_>,
    max_rows: usize,
) -> Result<Vec<Value>, UploadError> {
    let text = std::str::from_utf8(bytes).map_err(|error| UploadError::NotUtf8 {
        line: 1 + bytes[..error.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
    })?;
    // Excel starts its UTF-8 CSV files with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rows = match format {
        Format::Csv => csv_rows(text, target, max_rows)?,
        Format::Jsonl => jsonl_rows(text, max_rows)?,
    };
    if rows.is_empty() {
        return Err(UploadError::Empty);
    }
    let mut inputs = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    for (row, parsed) in rows {
        match parsed.and_then(|value| target.check(&value).map(|_| value)) {
            Ok(value) => inputs.push(value),
            Err(problems) => errors.push(RowError { row, problems }),
        }
    }
    if errors.is_empty() {
        Ok(inputs)
    } else {
        Err(UploadError::Rows(errors))
    }
}

type Row = (usize, Result<Value, Vec<Text>>);

fn csv_rows(text: &str, target: &Target<'_>, max_rows: usize) -> Result<Vec<Row>, UploadError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|error| {
            UploadError::Header(
                Text::new("upload-header-unreadable").arg("detail", error.to_string()),
            )
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let fields = target.fields();
    let unknown: Vec<&str> = headers
        .iter()
        .filter(|h| !fields.iter().any(|f| f == *h))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() || headers.is_empty() {
        let quoted = |names: &[&str]| {
            names
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        return Err(UploadError::Header(
            Text::new("upload-header-columns")
                .arg(
                    "unknown",
                    if unknown.is_empty() {
                        Arg::from(Text::new("upload-no-column"))
                    } else {
                        Arg::from(quoted(&unknown))
                    },
                )
                .arg("target", target.label())
                .arg("fields", quoted(&fields)),
        ));
    }
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        if index == max_rows {
            return Err(UploadError::TooManyRows { max: max_rows });
        }
        let row = match &record {
            Ok(record) => record.position(),
            Err(error) => error.position(),
        }
        .map_or(index + 2, |position| line_of(text, position));
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let problem = Text::new("upload-row-csv").arg("detail", error.to_string());
                rows.push((row, Err(vec![problem])));
                continue;
            }
        };
        if record.len() != headers.len() {
            rows.push((
                row,
                Err(vec![
                    Text::new("upload-row-cells")
                        .arg("cells", record.len())
                        .arg("columns", headers.len()),
                ]),
            ));
            continue;
        }
        let mut input = Map::new();
        let mut problems = Vec::new();
        for (name, cell) in headers.iter().zip(record.iter()) {
            // An empty cell is a field left out, so its default applies.
            if cell.is_empty() {
                continue;
            }
            match target.typed(name, cell) {
                Ok(value) => {
                    input.insert(name.clone(), value);
                }
                Err(problem) => problems.push(
                    Text::new("field-problem")
                        .arg("field", name.as_str())
                        .arg("problem", problem),
                ),
            }
        }
        rows.push((
            row,
            if problems.is_empty() {
                Ok(Value::Object(input))
            } else {
                Err(problems)
            },
        ));
    }
    Ok(rows)
}

/// The line a CSV record starts on (the header's is 1). The reader's position is where
/// it began looking, before the blank lines it skips.
fn line_of(text: &str, position: &csv::Position) -> usize {
    let mut line = position.line() as usize;
    let mut rest = text.get(position.byte() as usize..).unwrap_or_default();
    loop {
        if let Some(after) = rest.strip_prefix("\r\n") {
            rest = after;
        } else if let Some(after) = rest.strip_prefix(['\n', '\r']) {
            rest = after;
        } else {
            return line;
        }
        line += 1;
    }
}

fn jsonl_rows(text: &str, max_rows: usize) -> Result<Vec<Row>, UploadError> {
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if rows.len() == max_rows {
            return Err(UploadError::TooManyRows { max: max_rows });
        }
        let parsed = serde_json::from_str::<Value>(line)
            .map_err(|error| vec![Text::new("upload-row-json").arg("detail", error.to_string())]);
        rows.push((index + 1, parsed));
    }
    Ok(rows)
}

/// A CSV cell as the JSON type the schema gives its field: a number, a boolean
/// (`true`/`false`, `yes`/`no`, `1`/`0`), a list or object as JSON (a list of texts may
/// also be one item per line), anything else as text.
pub(super) fn typed_cell(schema: Option<&Value>, cell: &str) -> Result<Value, Text> {
    let types: Vec<&str> = match schema.and_then(|s| s.get("type")) {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => vec!["string"],
    };
    let trimmed = cell.trim();
    if types.contains(&"string") {
        return Ok(Value::String(cell.to_string()));
    }
    if types.contains(&"integer") {
        return trimmed
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| Text::new("cell-not-integer").arg("cell", format!("{cell:?}")));
    }
    if types.contains(&"number") {
        return trimmed
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| Text::new("cell-not-number").arg("cell", format!("{cell:?}")));
    }
    if types.contains(&"boolean") {
        return match trimmed.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err(Text::new("cell-not-boolean").arg("cell", format!("{cell:?}"))),
        };
    }
    if types.contains(&"array") && !trimmed.starts_with('[') {
        return Ok(Value::Array(
            cell.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| Value::String(l.to_string()))
                .collect(),
        ));
    }
    serde_json::from_str(trimmed)
        .map_err(|_| Text::new("cell-not-json").arg("cell", format!("{cell:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_take_their_fields_types() {
        let int = json!({"type": "integer"});
        assert_eq!(typed_cell(Some(&int), " 5 "), Ok(json!(5)));
        assert!(
            typed_cell(Some(&int), "five")
                .unwrap_err()
                .to_string()
                .contains("whole number")
        );
        let flag = json!({"type": "boolean"});
        assert_eq!(typed_cell(Some(&flag), "Yes"), Ok(json!(true)));
        assert_eq!(typed_cell(Some(&flag), "0"), Ok(json!(false)));
        let list = json!({"type": "array", "items": {"type": "string"}});
        assert_eq!(typed_cell(Some(&list), "a\nb\n"), Ok(json!(["a", "b"])));
        assert_eq!(typed_cell(Some(&list), r#"["x"]"#), Ok(json!(["x"])));
        // Text stays as it is, spaces and all.
        let text = json!({"type": ["string", "null"]});
        assert_eq!(typed_cell(Some(&text), " 12 "), Ok(json!(" 12 ")));
    }

    #[test]
    fn files_name_their_format() {
        assert_eq!(Format::of_file("Inputs.CSV"), Some(Format::Csv));
        assert_eq!(Format::of_file("x.jsonl"), Some(Format::Jsonl));
        assert_eq!(Format::of_file("x.txt"), None);
    }

    #[test]
    fn a_bad_byte_is_reported_with_its_line() {
        let target = Target::Chat { max_chars: 100 };
        let bytes = b"message\nfine\ncaf\xe9\n";
        assert_eq!(
            read_inputs(bytes, Format::Csv, &target, 10),
            Err(UploadError::NotUtf8 { line: 3 })
        );
    }

    #[test]
    fn every_bad_row_is_listed_and_nothing_is_kept() {
        let target = Target::Chat { max_chars: 10 };
        let text = "{\"message\": \"ok\"}\n\n{\"message\": \"\"}\nnot json\n{\"message\": \"far too long here\"}\n";
        let Err(UploadError::Rows(rows)) = read_inputs(text.as_bytes(), Format::Jsonl, &target, 10)
        else {
            panic!("bad rows were accepted");
        };
        let numbers: Vec<usize> = rows.iter().map(|r| r.row).collect();
        assert_eq!(numbers, [3, 4, 5]);
    }

    #[test]
    fn csv_rows_are_numbered_as_a_spreadsheet_shows_them() {
        let target = Target::Chat { max_chars: 100 };
        // The file's lines: the header is row 1; blank lines and a cell's own line
        // break count.
        let text = "message\nfine\n\n\"two\nlines\"\n\nbad\u{7}bell\n";
        let Err(UploadError::Rows(rows)) = read_inputs(text.as_bytes(), Format::Csv, &target, 10)
        else {
            panic!("a bell character was accepted");
        };
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].row, 7, "{rows:?}");
        assert!(
            rows[0].problems[0]
                .to_string()
                .contains("control characters")
        );
        // Windows line ends too.
        let text = "message\r\nfine\r\n\r\nbad\u{7}\r\n";
        let Err(UploadError::Rows(rows)) = read_inputs(text.as_bytes(), Format::Csv, &target, 10)
        else {
            panic!("a bell character was accepted");
        };
        assert_eq!(rows[0].row, 4);
    }

    #[test]
    fn rows_past_the_cap_refuse_the_file() {
        let target = Target::Chat { max_chars: 10 };
        let text = "message\na\nb\nc\n";
        assert_eq!(
            read_inputs(text.as_bytes(), Format::Csv, &target, 2),
            Err(UploadError::TooManyRows { max: 2 })
        );
    }
}
