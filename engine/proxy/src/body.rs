//! Body types shared by the proxy's handlers, and request/response buffering: bodies are held in
//! memory up to `--buffer-memory`, spill to an anonymous temp file past that, and are refused past
//! `--max-request-body` / `--max-response-body`.

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full, StreamBody};
use hyper::body::{Body as HttpBody, Frame};
use std::io::Write;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

pub fn full(data: impl Into<Bytes>) -> Body {
    Full::new(data.into()).map_err(|never| match never {}).boxed_unsync()
}

pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

pub fn boxed<B>(body: B) -> Body
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

#[derive(Debug, thiserror::Error)]
pub enum BufferError {
    #[error("maximum size exceeded")]
    TooLarge,
    #[error("buffer file: {0}")]
    Io(#[from] std::io::Error),
    #[error("reading body: {0}")]
    Body(BoxError),
}

/// A fully read body: the first bytes in memory, the rest (if any) in a temp file.
pub struct Buffered {
    memory: Vec<Bytes>,
    file: Option<std::fs::File>,
    pub len: u64,
}

/// Reads all of `body`. `max_memory` bytes stay in memory; `max_total` (0 = unlimited) caps the whole.
pub async fn buffer<B>(mut body: B, max_memory: i64, max_total: i64) -> Result<Buffered, BufferError>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    let max_memory = max_memory.max(0) as u64;
    let mut out = Buffered { memory: vec![], file: None, len: 0 };
    let mut in_memory = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BufferError::Body(e.into()))?;
        let Ok(data) = frame.into_data() else { continue };
        out.len += data.len() as u64;
        if max_total > 0 && out.len > max_total as u64 {
            return Err(BufferError::TooLarge);
        }
        if out.file.is_none() && in_memory + data.len() as u64 <= max_memory {
            in_memory += data.len() as u64;
            out.memory.push(data);
        } else {
            let file = match &mut out.file {
                Some(f) => f,
                None => out.file.insert(tempfile::tempfile()?),
            };
            file.write_all(&data)?;
        }
    }
    Ok(out)
}

impl Buffered {
    pub fn into_body(self) -> Body {
        let memory = futures_util::stream::iter(self.memory.into_iter().map(Ok::<_, std::io::Error>));
        match self.file {
            None => boxed(StreamBody::new(memory.map_ok(Frame::data))),
            Some(mut file) => {
                use std::io::Seek;
                let rewound = file.seek(std::io::SeekFrom::Start(0)).map(|_| file);
                let rest = futures_util::stream::once(async move { rewound })
                    .map_ok(|f| tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::from_std(f), 64 * 1024))
                    .try_flatten();
                boxed(StreamBody::new(memory.chain(rest).map_ok(Frame::data)))
            }
        }
    }

    pub fn spilled(&self) -> bool {
        self.file.is_some()
    }
}

use futures_util::StreamExt;

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(b: Body) -> Vec<u8> {
        b.collect().await.unwrap().to_bytes().to_vec()
    }

    #[tokio::test]
    async fn small_bodies_stay_in_memory_large_ones_spill() {
        let data = vec![7u8; 3000];
        let b = buffer(full(data.clone()), 1 << 20, 0).await.unwrap();
        assert!(!b.spilled());
        assert_eq!(collect(b.into_body()).await, data);
        let chunks = futures_util::stream::iter(
            (0..10).map(|i| Ok::<_, std::io::Error>(Frame::data(Bytes::from(vec![i as u8; 1000])))),
        );
        let b = buffer(StreamBody::new(chunks), 2500, 0).await.unwrap();
        assert!(b.spilled());
        assert_eq!(b.len, 10_000);
        let all = collect(b.into_body()).await;
        assert_eq!(all.len(), 10_000);
        assert_eq!(all[9999], 9);
    }

    #[tokio::test]
    async fn refuses_past_the_limit() {
        let err = buffer(full(vec![0u8; 101]), 10, 100).await.err().unwrap();
        assert!(matches!(err, BufferError::TooLarge));
    }
}
