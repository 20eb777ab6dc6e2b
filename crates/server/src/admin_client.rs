//! The CLI's side of the admin socket: one HTTP/1.1 request per connection
//! (`Connection: close`), the JSON answer read to the end.

use std::path::Path;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::error::Error;

/// Largest answer read (the biggest page of users or events is far smaller).
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// An answer: its status and its JSON body (`null` when empty).
#[derive(Debug)]
pub(crate) struct Answer {
    /// HTTP status code.
    pub status: u16,
    /// The body.
    pub body: Value,
}

/// Sends `method path` with an optional JSON body to the server on `socket`.
pub(crate) async fn request(
    socket: &Path,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<Answer, Error> {
    let mut stream = UnixStream::connect(socket)
        .await
        .map_err(|source| Error::Io {
            context: format!(
                "cannot reach the running server on its admin socket {} (is `authgate serve` \
             running with this configuration? see AUTHGATE_ADMIN_SOCKET)",
                socket.display()
            ),
            source,
        })?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: authgate-admin\r\nUser-Agent: authgate-cli/{}\r\n\
         Connection: close\r\nContent-Length: {}\r\n",
        env!("CARGO_PKG_VERSION"),
        payload.len()
    );
    if body.is_some() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str("\r\n");
    let io = |what: &'static str| {
        move |source| Error::Io {
            context: format!("admin socket: cannot {what}"),
            source,
        }
    };
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(io("send"))?;
    stream
        .write_all(payload.as_bytes())
        .await
        .map_err(io("send"))?;
    let mut raw = Vec::new();
    (&mut stream)
        .take(MAX_RESPONSE_BYTES as u64)
        .read_to_end(&mut raw)
        .await
        .map_err(io("read the answer"))?;
    parse(&raw)
}

/// Parses a whole HTTP/1.1 response (identity or chunked body).
fn parse(raw: &[u8]) -> Result<Answer, Error> {
    let bad = || Error::Input("admin socket: the server's answer is not HTTP".into());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(bad)?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| bad())?;
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        body = dechunk(&body).ok_or_else(bad)?;
    }
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).map_err(|_| bad())?
    };
    Ok(Answer { status, body })
}

/// The body of a chunked transfer encoding.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = raw.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&raw[..eol]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_and_chunked_answers_parse_alike() {
        let plain = b"HTTP/1.1 404 Not Found\r\ncontent-length: 13\r\n\r\n{\"code\":\"x\"}\n";
        let a = parse(plain).unwrap();
        assert_eq!((a.status, a.body["code"].as_str()), (404, Some("x")));
        let chunked =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n4\r\n:1}\n\r\n0\r\n\r\n";
        assert_eq!(parse(chunked).unwrap().body["a"], 1);
        assert!(parse(b"garbage").is_err());
    }
}
