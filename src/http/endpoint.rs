//! Parsed `http://` URLs: where to connect and what to ask for.

use std::fmt;

use hyper::Uri;

/// An `http://host[:port]/path` URL, split into what a connection and a request need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or address to connect to.
    pub host: String,
    /// TCP port (80 when the URL gives none).
    pub port: u16,
    /// Path and query, at least `/`.
    pub path: String,
}

impl Endpoint {
    /// Parses `url`, accepting `http://` only.
    ///
    /// TLS is not built in yet; an `https://` URL is refused with a message saying so, rather
    /// than silently sent in the clear.
    pub fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url.parse().map_err(|e| format!("{url:?} is not a valid URL: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(format!(
                    "{url:?}: https is not supported yet; use http:// (for example through a local TLS-terminating proxy)"
                ));
            }
            _ => return Err(format!("{url:?}: expected an http:// URL")),
        }
        let host =
            uri.host().filter(|h| !h.is_empty()).ok_or_else(|| format!("{url:?}: the URL has no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let path = if path.is_empty() { "/".to_owned() } else { path };
        Ok(Self { host, port: uri.port_u16().unwrap_or(80), path })
    }

    /// The value of the `Host` header for this endpoint.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        if self.port == 80 { host } else { format!("{host}:{}", self.port) }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.authority(), self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_host_port_and_path() {
        let e = Endpoint::parse("http://127.0.0.1:9201/health?deep=1").unwrap();
        assert_eq!(e, Endpoint { host: "127.0.0.1".into(), port: 9201, path: "/health?deep=1".into() });
        assert_eq!(e.to_string(), "http://127.0.0.1:9201/health?deep=1");
        let e = Endpoint::parse("http://db.internal").unwrap();
        assert_eq!((e.port, e.path.as_str(), e.authority().as_str()), (80, "/", "db.internal"));
    }

    #[test]
    fn refuses_what_it_cannot_speak() {
        assert!(Endpoint::parse("https://hooks.slack.com/x").unwrap_err().contains("https is not supported"));
        assert!(Endpoint::parse("ftp://x/").unwrap_err().contains("expected an http:// URL"));
        assert!(Endpoint::parse("not a url").is_err());
    }
}
