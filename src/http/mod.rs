//! Minimal HTTP/1 client plumbing over the [`Net`](crate::net::Net) seam, built on hyper.

pub mod client;
pub mod endpoint;

pub use client::{HttpError, Response, send};
pub use endpoint::Endpoint;
