//! The connections that carry streamed answers: HTTP/1.1 to the model server, kept warm,
//! each driven by the task that reads its answer.
//!
//! hyper's pooled client (under reqwest) runs every connection in a task of its own and
//! hands a body over one chunk at a time, so each event of an answer was a hop between
//! two tasks: a wake-up each way, 1 to 2.5 µs an event on one core. Here the reader polls
//! the connection itself. What one read of the socket brought is taken in one go, nothing
//! is read that no one asked for (a reader that stops pauses the model), and a reader
//! that goes away closes its connection. The connector is the one reqwest uses
//! (hyper-util's resolver and connect timeout under hyper-rustls, the platform's roots).

use std::{
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Waker},
    time::{Duration, Instant},
};

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use http::{HeaderMap, HeaderValue, Request, StatusCode, Uri, header};
use http_body_util::Full;
use hyper::{
    body::{Body as _, Incoming},
    client::conn::{
        TrySendError,
        http1::{self, Connection, SendRequest},
    },
};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder, MaybeHttpsStream};
use hyper_util::{client::legacy::connect::HttpConnector, rt::TokioIo};
use tower::ServiceExt;

/// Connections kept for the next answers; more than this close when their answer ends
/// (after a burst of a thousand streams, the rest would only hold their buffers).
const MAX_IDLE: usize = 64;

/// A connection unused for this long is closed rather than tried (hyper-util's default).
const IDLE_FOR: Duration = Duration::from_secs(90);

type Io = MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>;

/// The model server's completions endpoint, and the connections to it.
pub struct Upstream {
    connector: HttpsConnector<HttpConnector>,
    /// Where connections go (scheme, host and port).
    uri: Uri,
    /// What requests ask for: the path, and the `Host` header.
    path: Uri,
    host: HeaderValue,
    connect_timeout: Duration,
    /// Longest wait for a response's headers.
    header_timeout: Duration,
    idle: Arc<Pool>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream").field("uri", &self.uri).finish()
    }
}

/// Why a request got no response.
#[derive(Debug)]
pub enum Failure {
    /// No connection could be made, or not within the connect timeout: worth another try.
    Connect(String),
    /// No response headers within the read timeout.
    Timeout,
    /// The connection broke before the response came.
    Broken(hyper::Error),
}

impl Upstream {
    /// For `url` (`http` or `https`). Needs the process's rustls crypto provider installed.
    pub fn new(
        url: &str,
        connect_timeout: Duration,
        header_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let uri: Uri = url.parse()?;
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            anyhow::bail!("{url} is not an absolute URL");
        };
        anyhow::ensure!(
            !authority.as_str().contains('@'),
            "{url}: put credentials in OPENAI_API_KEY, not in the URL"
        );
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).parse()?;
        let host = HeaderValue::from_str(authority.as_str())?;
        let origin = Uri::builder()
            .scheme(scheme.clone())
            .authority(authority.clone())
            .path_and_query("/")
            .build()?;

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        let tls = {
            use rustls_platform_verifier::BuilderVerifierExt;
            rustls::ClientConfig::builder()
                .with_platform_verifier()?
                .with_no_client_auth()
        };
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            connector,
            uri: origin,
            path,
            host,
            connect_timeout,
            header_timeout,
            idle: Arc::default(),
        })
    }

    /// Posts `body` (JSON) and returns the response once its headers are in. A kept
    /// connection found closed before the request went out is replaced by a new one.
    pub async fn post(
        &self,
        body: Bytes,
        authorization: Option<&HeaderValue>,
    ) -> Result<(StatusCode, HeaderMap, Answer), Failure> {
        loop {
            let (mut conn, kept) = match self.idle.take().await {
                Some(conn) => (conn, true),
                None => (self.connect().await?, false),
            };
            let mut request = Request::post(self.path.clone())
                .header(header::HOST, self.host.clone())
                .header(header::CONTENT_TYPE, "application/json");
            if let Some(authorization) = authorization {
                request = request.header(header::AUTHORIZATION, authorization.clone());
            }
            let request = request
                .body(Full::new(body.clone()))
                .expect("the parts were checked when the client was made");
            let response = tokio::time::timeout(self.header_timeout, conn.exchange(request));
            match response.await {
                Ok(Ok(response)) => {
                    let (parts, body) = response.into_parts();
                    let answer = Answer(Some(Reading {
                        body,
                        conn: Some(conn),
                        idle: self.idle.clone(),
                        done: false,
                    }));
                    return Ok((parts.status, parts.headers, answer));
                }
                Ok(Err(mut error)) => {
                    // The request never went out: the server had closed the connection.
                    if !(kept && error.take_message().is_some()) {
                        return Err(Failure::Broken(error.into_error()));
                    }
                }
                Err(_) => return Err(Failure::Timeout),
            }
        }
    }

    async fn connect(&self) -> Result<Conn, Failure> {
        let connecting = self.connector.clone().oneshot(self.uri.clone());
        let io = match tokio::time::timeout(self.connect_timeout, connecting).await {
            Ok(Ok(io)) => io,
            Ok(Err(error)) => return Err(Failure::Connect(causes(&*error))),
            Err(_) => return Err(Failure::Connect("connect timed out".into())),
        };
        // An HTTP/1 handshake sends nothing: it only pairs the two halves.
        let (send, io) = http1::handshake(io)
            .await
            .map_err(|error| Failure::Connect(error.to_string()))?;
        Ok(Conn {
            send,
            io,
            over: false,
        })
    }
}

/// An error and its sources, as one line ("tcp connect error: Connection refused").
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// One connection: the handle requests go through, and the connection itself, which
/// reads and writes only when polled.
struct Conn {
    send: SendRequest<Full<Bytes>>,
    io: Connection<Io, Full<Bytes>>,
    /// The connection has closed (it is never polled again).
    over: bool,
}

impl Conn {
    /// Lets the connection read and write what it can. True once it has closed.
    fn drive(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.over {
            self.over = Pin::new(&mut self.io).poll(cx).is_ready();
        }
        self.over
    }

    /// Sends `request` and drives the connection until the response's headers are in.
    async fn exchange(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> Result<hyper::Response<Incoming>, TrySendError<Request<Full<Bytes>>>> {
        let mut response = std::pin::pin!(self.send.try_send_request(request));
        std::future::poll_fn(|cx| {
            // Once the connection has closed, the response says how (an error).
            self.drive(cx);
            response.as_mut().poll(cx)
        })
        .await
    }
}

/// Connections whose answers ended, newest last.
#[derive(Default)]
struct Pool(Mutex<Vec<(Conn, Instant)>>);

impl Pool {
    /// The newest kept connection still open. The server may have closed one while it
    /// waited: polling it once reads that close, if it came.
    async fn take(&self) -> Option<Conn> {
        loop {
            let (mut conn, since) = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop()?;
            if since.elapsed() > IDLE_FOR {
                // The rest are older still.
                self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
                return None;
            }
            let closed = std::future::poll_fn(|cx| Poll::Ready(conn.drive(cx))).await;
            if !closed && conn.send.is_ready() {
                return Some(conn);
            }
        }
    }

    /// Keeps `conn`, and closes those unused for `IDLE_FOR` (the oldest come first).
    fn put(&self, conn: Conn) {
        let mut idle = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let stale = idle.partition_point(|(_, since)| since.elapsed() > IDLE_FOR);
        idle.drain(..stale);
        if idle.len() < MAX_IDLE {
            idle.push((conn, Instant::now()));
        }
    }
}

/// A response's body, read as the connection is driven by whoever reads it.
pub struct Answer(Option<Reading>);

struct Reading {
    body: Incoming,
    /// `None` once the connection has closed, or gone back to the pool.
    conn: Option<Conn>,
    idle: Arc<Pool>,
    /// The last chunk read ended with `[DONE]`: only the body's end is left.
    done: bool,
}

impl Answer {
    /// The whole body, or its first `limit` bytes (an error's explanation).
    pub async fn read(mut self, limit: usize) -> Result<Bytes, hyper::Error> {
        use futures_util::StreamExt;
        let mut text = BytesMut::new();
        while let Some(chunk) = self.next().await {
            let chunk = chunk?;
            let room = limit - text.len();
            text.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if text.len() == limit {
                break;
            }
        }
        Ok(text.freeze())
    }
}

impl Stream for Answer {
    type Item = Result<Bytes, hyper::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match &mut self.get_mut().0 {
            Some(reading) => reading.poll_chunk(cx),
            None => Poll::Ready(None),
        }
    }
}

impl Drop for Answer {
    /// Readers stop at `[DONE]`, before the body's end (its last, empty chunk), and the
    /// connection serves the next answer only once that end is read. If it is here, it
    /// is taken now; if not, a task of its own waits a moment for it. An answer left
    /// before its `[DONE]` closes its connection, and the server stops generating.
    fn drop(&mut self) {
        let Some(mut reading) = self.0.take() else {
            return;
        };
        if !reading.done
            || reading
                .finish(&mut Context::from_waker(Waker::noop()))
                .is_ready()
        {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let finished = std::future::poll_fn(|cx| reading.finish(cx));
                let _ = tokio::time::timeout(END_WITHIN, finished).await;
            });
        }
    }
}

/// How long the end of an answer read to its `[DONE]` is waited for.
const END_WITHIN: Duration = Duration::from_millis(250);

impl Reading {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, hyper::Error>>> {
        let mut driven = false;
        loop {
            match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        self.done = data.trim_ascii_end().ends_with(b"[DONE]");
                        return Poll::Ready(Some(Ok(data)));
                    }
                    // Trailers carry nothing a completion uses.
                    Err(_) => continue,
                },
                Poll::Ready(Some(Err(error))) => {
                    self.conn = None;
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(None) => {
                    self.release(cx);
                    return Poll::Ready(None);
                }
                Poll::Pending if driven => return Poll::Pending,
                Poll::Pending => {}
            }
            // The connection hands over one chunk at a time, and decodes the next (from
            // what it has read, or from the socket) only when polled.
            let Some(conn) = &mut self.conn else {
                return Poll::Pending;
            };
            conn.drive(cx);
            driven = true;
        }
    }

    /// Reads on to the end of the body: ready once the connection is back in the pool,
    /// or closed because something other than the end came after `[DONE]`.
    fn finish(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.poll_chunk(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(()),
            Poll::Ready(Some(_)) => {
                self.conn = None;
                Poll::Ready(())
            }
        }
    }

    /// At the end of the body the connection goes back to the pool, if it stays open:
    /// one more turn lets it finish the exchange and say whether it will.
    fn release(&mut self, cx: &mut Context<'_>) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        if !conn.drive(cx) && conn.send.is_ready() {
            self.idle.put(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures_util::StreamExt;
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::{TcpListener, TcpStream},
    };

    use super::*;

    /// A server that streams `EVENTS` events and `[DONE]` for each request, and closes a connection
    /// after `per_connection` answers, as one whose keep-alive ran out. Returns its URL
    /// and the connections it has accepted.
    async fn server(per_connection: usize) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/v1/chat/completions",
            listener.local_addr().unwrap()
        );
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(answer(socket, per_connection));
            }
        });
        (url, accepted)
    }

    const EVENTS: usize = 3;

    async fn answer(mut socket: TcpStream, per_connection: usize) {
        let mut read = Vec::new();
        for _ in 0..per_connection {
            // The request: its head, then as many bytes as it says.
            let head_end = loop {
                if let Some(at) = read.windows(4).position(|w| w == b"\r\n\r\n") {
                    break at + 4;
                }
                let mut buffer = [0; 4096];
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => read.extend_from_slice(&buffer[..n]),
                }
            };
            let head = String::from_utf8_lossy(&read[..head_end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |value| value.trim().parse().unwrap());
            while read.len() < head_end + length {
                let mut buffer = [0; 4096];
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => read.extend_from_slice(&buffer[..n]),
                }
            }
            read.drain(..head_end + length);
            let mut response = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                transfer-encoding: chunked\r\n\r\n"
                .to_vec();
            for n in 0..EVENTS {
                let event = format!("data: {{\"n\":{n}}}\n\n");
                response.extend(format!("{:x}\r\n{event}\r\n", event.len()).bytes());
            }
            response.extend(b"e\r\ndata: [DONE]\n\n\r\n");
            // The body's end a moment after `[DONE]`, as a server's next write.
            let sent = socket.write_all(&response).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
            if sent.and(socket.write_all(b"0\r\n\r\n").await).is_err() {
                return;
            }
        }
    }

    fn upstream(url: &str) -> Upstream {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Upstream::new(url, Duration::from_secs(2), Duration::from_secs(2)).unwrap()
    }

    /// Posts and reads the whole answer; returns its events.
    async fn ask(upstream: &Upstream) -> usize {
        let (status, _, answer) = upstream.post(Bytes::from("{}"), None).await.unwrap();
        assert_eq!(status, StatusCode::OK);
        let text = answer.read(1 << 20).await.unwrap();
        text.windows(5).filter(|w| w == b"data:").count() - 1
    }

    #[tokio::test]
    async fn a_connection_is_kept_for_the_next_answers() {
        let (url, accepted) = server(usize::MAX).await;
        let upstream = upstream(&url);
        for _ in 0..3 {
            assert_eq!(ask(&upstream).await, EVENTS);
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_kept_connection_the_server_closed_is_replaced_without_losing_the_answer() {
        let (url, accepted) = server(1).await;
        let upstream = upstream(&url);
        assert_eq!(ask(&upstream).await, EVENTS);
        // The server's close reaches us while the connection waits in the pool.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(ask(&upstream).await, EVENTS);
        assert_eq!(ask(&upstream).await, EVENTS);
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn an_answer_dropped_half_read_closes_its_connection() {
        let (url, accepted) = server(usize::MAX).await;
        let upstream = upstream(&url);
        let (_, _, mut answer) = upstream.post(Bytes::from("{}"), None).await.unwrap();
        assert!(answer.next().await.unwrap().is_ok());
        drop(answer);
        assert_eq!(ask(&upstream).await, EVENTS);
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_answer_left_at_its_done_keeps_its_connection_though_the_end_comes_later() {
        let (url, accepted) = server(usize::MAX).await;
        let upstream = upstream(&url);
        let (_, _, mut answer) = upstream.post(Bytes::from("{}"), None).await.unwrap();
        let mut read = Vec::new();
        while !read.ends_with(b"data: [DONE]\n\n") {
            read.extend_from_slice(&answer.next().await.unwrap().unwrap());
        }
        drop(answer);
        // The end arrives after the reader left; the connection waits for it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(ask(&upstream).await, EVENTS);
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn nothing_listening_is_a_connect_failure() {
        let port = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let upstream = upstream(&format!("http://127.0.0.1:{port}/v1/chat/completions"));
        let failure = upstream.post(Bytes::from("{}"), None).await.err();
        // The log says why, from the error's sources.
        assert!(
            matches!(&failure, Some(Failure::Connect(why)) if why.contains("refused")),
            "{failure:?}"
        );
    }

    #[test]
    fn credentials_in_the_url_are_refused() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let made = Upstream::new(
            "https://user:secret@example.com/v1/chat/completions",
            Duration::from_secs(1),
            Duration::from_secs(1),
        );
        assert!(made.is_err());
    }
}
