//! A `multipart/form-data` body (RFC 7578) taken apart into its named parts: the one
//! form that uploads a file. The body is already in memory, read within its limit by
//! `read_body`; this only splits it. (axum's `multipart` feature would stream it, for a
//! form that needs no more than this.)

use axum::http::{HeaderMap, header};

/// One field of the form: its name, the file's name for a file, and the bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

/// The boundary a `multipart/form-data` request names in its `Content-Type`.
pub fn boundary(headers: &HeaderMap) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// The parts of `body`, or `None` when it is not a well-formed multipart body.
pub fn parts(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut rest = &body[find(body, delimiter)? + delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let headers_end = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..headers_end]).ok()?;
        let content = &rest[headers_end + 4..];
        let end = find_delimiter(content, delimiter)?;
        let (name, filename) = disposition(head)?;
        parts.push(Part {
            name,
            filename,
            data: content[..end].to_vec(),
        });
        // The CRLF before the delimiter belongs to the delimiter.
        rest = &content[end + 2 + delimiter.len()..];
    }
}

/// Where `\r\n--boundary` starts in `haystack`.
fn find_delimiter(haystack: &[u8], delimiter: &[u8]) -> Option<usize> {
    let mut with_crlf = b"\r\n".to_vec();
    with_crlf.extend_from_slice(delimiter);
    find(haystack, &with_crlf)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The `name` and `filename` of a part's `Content-Disposition: form-data` header.
fn disposition(head: &str) -> Option<(String, Option<String>)> {
    let line = head.lines().find(|line| {
        line.split(':')
            .next()
            .is_some_and(|h| h.trim().eq_ignore_ascii_case("content-disposition"))
    })?;
    let (_, value) = line.split_once(':')?;
    let mut name = None;
    let mut filename = None;
    for param in value.split(';').skip(1) {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_string();
        match key.trim() {
            "name" => name = Some(value),
            "filename" => filename = Some(value),
            _ => {}
        }
    }
    Some((name?, filename))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browsers_form_comes_apart_into_its_fields_and_file() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nMy batch\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.csv\"\r\nContent-Type: text/csv\r\n\r\nmessage\r\nhi\r\n\r\n\
--XyZ--\r\n";
        let parts = parts(body, "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "name");
        assert_eq!(parts[0].data, b"My batch");
        assert_eq!(parts[1].filename.as_deref(), Some("in.csv"));
        // The file keeps its own line ends, the last one included.
        assert_eq!(parts[1].data, b"message\r\nhi\r\n");
    }

    #[test]
    fn a_body_without_its_closing_delimiter_is_refused() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\ncut off";
        assert_eq!(parts(body, "XyZ"), None);
    }

    #[test]
    fn the_boundary_comes_from_the_content_type() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=\"----abc\"".parse().unwrap(),
        );
        assert_eq!(boundary(&headers).as_deref(), Some("----abc"));
        headers.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert_eq!(boundary(&headers), None);
    }
}
