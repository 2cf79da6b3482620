//! The manifests' encoding: a minimal JSON value and writer, and base64 for module bytes. The
//! tool only ever writes JSON, so this is all it needs (no serde, to keep the build small).

use std::fmt::Write;

/// A JSON value. Objects keep insertion order so manifests read in a stable, natural order.
pub enum Json {
    Null,
    Int(i64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(&'static str, Json)>),
}

impl Json {
    /// An object from `(key, value)` pairs.
    pub fn obj<const N: usize>(fields: [(&'static str, Json); N]) -> Json {
        Json::Obj(fields.into())
    }

    pub fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    /// Adds a field to an object (no-op on other values).
    pub fn set(&mut self, key: &'static str, value: Json) {
        if let Json::Obj(fields) = self {
            fields.push((key, value));
        }
    }

    /// Compact JSON, except that the top-level arrays of an object get one element per line so
    /// a manifest can be read (and diffed) command by command.
    pub fn to_pretty_string(&self) -> String {
        let mut out = String::new();
        match self {
            Json::Obj(fields) => {
                out.push_str("{\n");
                for (i, (key, value)) in fields.iter().enumerate() {
                    write_str(&mut out, key);
                    out.push_str(": ");
                    match value {
                        Json::Arr(items) if !items.is_empty() => {
                            out.push_str("[\n");
                            for (j, item) in items.iter().enumerate() {
                                out.push_str("  ");
                                item.write(&mut out);
                                out.push_str(if j + 1 < items.len() { ",\n" } else { "\n" });
                            }
                            out.push(']');
                        }
                        _ => value.write(&mut out),
                    }
                    out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
                }
                out.push_str("}\n");
            }
            _ => self.write(&mut out),
        }
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Int(n) => write!(out, "{n}").unwrap(),
            Json::Str(s) => write_str(out, s),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Standard base64 with padding (what Node's `Buffer.from(s, 'base64')` reads).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        Json::str("a\"b\\c\n\u{1}é").write(&mut out);
        assert_eq!(out, r#""a\"b\\c\n\u0001é""#);
    }
}
