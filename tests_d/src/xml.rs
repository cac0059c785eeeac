//! A small, dependency-free XML reader for `gluster --xml` output.
//!
//! It handles what the gluster CLI prints: elements, attributes, text, the five predefined entities and
//! numeric character references, comments, processing instructions and an XML declaration. It builds a
//! tree; there is no namespace or DTD support.

/// One element: its name, attributes, direct text (concatenated, trimmed) and child elements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Tag name.
    pub name: String,
    /// Attributes in document order.
    pub attrs: Vec<(String, String)>,
    /// The element's own text (not its children's), whitespace-trimmed.
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

impl Element {
    /// The first child with this name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
    /// Every child with this name.
    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    /// The text of the first child with this name.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
    /// The first element with this name at any depth (self included), depth first.
    pub fn find(&self, name: &str) -> Option<&Element> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }
    /// Follows a path of child names (`["volumes", "volume"]`), first match at each step.
    pub fn path(&self, names: &[&str]) -> Option<&Element> {
        names.iter().try_fold(self, |e, n| e.child(n))
    }
    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a document could not be read; `offset` is a byte offset into the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed XML at byte {offset}: {message}")]
pub struct XmlError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses a document and returns its root element.
pub fn parse(input: &str) -> Result<Element, XmlError> {
    let mut p = Parser { s: input, pos: 0 };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    while p.pos < p.s.len() {
        let rest = &p.s[p.pos..];
        if let Some(r) = rest.strip_prefix("<?") {
            p.pos += 2 + p.until(r, "?>")? + 2;
        } else if let Some(r) = rest.strip_prefix("<!--") {
            p.pos += 4 + p.until(r, "-->")? + 3;
        } else if let Some(r) = rest.strip_prefix("<!") {
            p.pos += 2 + p.until(r, ">")? + 1;
        } else if let Some(r) = rest.strip_prefix("</") {
            let len = p.until(r, ">")?;
            let name = r[..len].trim();
            let el = stack
                .pop()
                .ok_or_else(|| p.err("closing tag without an open element"))?;
            if el.name != name {
                return Err(p.err(&format!("expected </{}>, found </{}>", el.name, name)));
            }
            p.pos += 2 + len + 1;
            close(el, &mut stack, &mut root, &p)?;
        } else if let Some(r) = rest.strip_prefix('<') {
            let len = p.until(r, ">")?;
            let mut tag = &r[..len];
            let self_closing = tag.ends_with('/');
            if self_closing {
                tag = &tag[..tag.len() - 1];
            }
            let el = p.open_tag(tag)?;
            p.pos += 1 + len + 1;
            if self_closing {
                close(el, &mut stack, &mut root, &p)?;
            } else {
                stack.push(el);
            }
        } else {
            let len = rest.find('<').unwrap_or(rest.len());
            let raw = &rest[..len];
            if let Some(top) = stack.last_mut() {
                top.text.push_str(&unescape(raw).map_err(|m| p.err(&m))?);
            } else if !raw.trim().is_empty() {
                return Err(p.err("text outside the root element"));
            }
            p.pos += len;
        }
    }
    if let Some(open) = stack.last() {
        return Err(p.err(&format!("element <{}> is not closed", open.name)));
    }
    root.ok_or_else(|| p.err("no root element"))
}

fn close(
    mut el: Element,
    stack: &mut [Element],
    root: &mut Option<Element>,
    p: &Parser<'_>,
) -> Result<(), XmlError> {
    el.text = el.text.trim().to_string();
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None if root.is_none() => *root = Some(el),
        None => return Err(p.err("more than one root element")),
    }
    Ok(())
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, message: &str) -> XmlError {
        XmlError {
            offset: self.pos,
            message: message.to_string(),
        }
    }
    fn until(&self, rest: &str, end: &str) -> Result<usize, XmlError> {
        rest.find(end)
            .ok_or_else(|| self.err(&format!("missing `{end}`")))
    }
    fn open_tag(&self, tag: &str) -> Result<Element, XmlError> {
        let tag = tag.trim();
        let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
        let name = &tag[..name_end];
        if name.is_empty() {
            return Err(self.err("empty tag name"));
        }
        let mut attrs = Vec::new();
        let mut rest = tag[name_end..].trim_start();
        while !rest.is_empty() {
            let eq = rest
                .find('=')
                .ok_or_else(|| self.err(&format!("attribute without value in <{name}>")))?;
            let key = rest[..eq].trim().to_string();
            let after = rest[eq + 1..].trim_start();
            let quote = after
                .chars()
                .next()
                .filter(|c| *c == '"' || *c == '\'')
                .ok_or_else(|| self.err(&format!("unquoted attribute `{key}` in <{name}>")))?;
            let body = &after[1..];
            let close = body
                .find(quote)
                .ok_or_else(|| self.err(&format!("unterminated attribute `{key}` in <{name}>")))?;
            let value = unescape(&body[..close]).map_err(|m| self.err(&m))?;
            attrs.push((key, value));
            rest = body[close + 1..].trim_start();
        }
        Ok(Element {
            name: name.to_string(),
            attrs,
            ..Element::default()
        })
    }
}

fn unescape(raw: &str) -> Result<String, String> {
    if !raw.contains('&') {
        return Ok(raw.to_string());
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let end = tail
            .find(';')
            .ok_or_else(|| "unterminated entity".to_string())?;
        let ent = &tail[..end];
        let ch = match ent {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(h) = ent.strip_prefix("#x") {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = ent.strip_prefix('#') {
                    d.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity `&{ent};`"))?
            }
        };
        out.push(ch);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gluster_volume_info_shape() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cliOutput>
  <opRet>0</opRet>
  <opErrno>0</opErrno>
  <opErrstr/>
  <volInfo>
    <volumes>
      <volume>
        <name>v1</name>
        <typeStr>Replicate</typeStr>
        <bricks>
          <brick uuid="abc">server1:/bricks/v1/b0<name>server1:/bricks/v1/b0</name><isArbiter>0</isArbiter></brick>
          <brick uuid="def">server2:/bricks/v1/b1<name>server2:/bricks/v1/b1</name><isArbiter>0</isArbiter></brick>
        </bricks>
        <options><option><name>a.b</name><value>x &amp; y &#65;</value></option></options>
      </volume>
      <count>1</count>
    </volumes>
  </volInfo>
</cliOutput>"#;
        let root = parse(doc).expect("parses");
        assert_eq!(root.name, "cliOutput");
        assert_eq!(root.child_text("opRet"), Some("0"));
        assert_eq!(root.child_text("opErrstr"), Some(""));
        let vol = root
            .path(&["volInfo", "volumes", "volume"])
            .expect("volume");
        assert_eq!(vol.child_text("name"), Some("v1"));
        let bricks: Vec<_> = vol
            .child("bricks")
            .expect("bricks")
            .children("brick")
            .collect();
        assert_eq!(bricks.len(), 2);
        assert_eq!(bricks[1].attr("uuid"), Some("def"));
        assert_eq!(bricks[1].text, "server2:/bricks/v1/b1");
        assert_eq!(root.find("value").map(|v| v.text.as_str()), Some("x & y A"));
    }

    #[test]
    fn rejects_mismatched_and_unclosed() {
        let e = parse("<a><b></a>").expect_err("mismatch");
        assert!(e.message.contains("expected </b>"), "{e}");
        let e = parse("<a><b>").expect_err("unclosed");
        assert!(e.message.contains("not closed"), "{e}");
        assert!(parse("").is_err());
        assert!(parse("<a/><b/>").is_err());
        assert!(parse("<a x=1/>").is_err());
        assert!(parse("<a>&bogus;</a>").is_err());
    }
}
