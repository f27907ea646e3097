//! ERB's compiler with `trim_mode: "-"` (erb 4's `ExplicitScanner` and `Compiler`): turns a
//! template into the Ruby program ERB would evaluate, with the same statements on the same lines,
//! so that the evaluator reports the template's line numbers.
//!
//! - `<% code %>` runs code, `<%= expr %>` appends `(expr).to_s`, `<%# comment %>` is dropped,
//!   `<%%` is a literal `<%` in text and `%%>` a literal `%>` inside a tag.
//! - `<%-` drops the spaces and tabs before it when they start the line; `-%>` drops the line
//!   break (or the end of the input) after it.
//! - A tag that is never closed is text, as in ERB.
//!
//! The program appends to `_erbout` (`_erbout = +''; _erbout.<< "text".freeze; ...; _erbout`).
//!
//! [`compile_untrimmed`] is ERB without a trim mode (`ERB.new(text)`, Kamal's accessory files):
//! `<%-` and `-%>` are then ordinary tags whose code starts or ends with `-`.

/// The Ruby source ERB would evaluate for `template` (`trim_mode: "-"`).
pub fn compile(template: &str) -> String {
    compile_with(template, true)
}

/// The Ruby source of `ERB.new(template)` (no trim mode).
pub fn compile_untrimmed(template: &str) -> String {
    compile_with(template, false)
}

fn compile_with(template: &str, trim: bool) -> String {
    let mut compiler =
        Compiler { line: vec!["_erbout = +''".to_string()], script: String::new(), content: String::new() };
    let mut stag: Option<&'static str> = None;
    let bytes = template.as_bytes();
    let mut pos = 0;
    while pos < template.len() {
        if stag.is_none() {
            // stag_reg = /(.*?)(^[ \t]*<%-|<%-|<%%|<%=|<%#|<%|\z)/m
            let (text_end, elem_end, elem) = find_stag(template, pos, trim);
            compiler.content.push_str(&template[pos..text_end]);
            pos = elem_end;
            match elem {
                Some("<%%") => compiler.content.push_str("<%"),
                Some(tag) => {
                    compiler.flush_text();
                    stag = Some(tag);
                }
                None => {}
            }
        } else {
            // etag_reg = /(.*?)(-%>|%%>|%>|\z)/m
            let rest = &template[pos..];
            let found = [if trim { rest.find("-%>") } else { None }, rest.find("%%>"), rest.find("%>")];
            let next = found.iter().flatten().min().copied();
            let Some(off) = next else {
                compiler.content.push_str(rest);
                break;
            };
            compiler.content.push_str(&rest[..off]);
            let at = pos + off;
            if trim && template[at..].starts_with("-%>") {
                pos = at + 3;
                compiler.close_tag(stag.take().unwrap());
                // yield(:cr) if scanner.scan(/(\r?\n|\z)/)
                if bytes.get(pos) == Some(&b'\n') {
                    pos += 1;
                    compiler.cr();
                } else if template[pos..].starts_with("\r\n") {
                    pos += 2;
                    compiler.cr();
                } else if pos == template.len() {
                    compiler.cr();
                }
            } else if template[at..].starts_with("%%>") {
                compiler.content.push_str("%>");
                pos = at + 3;
            } else {
                pos = at + 2;
                compiler.close_tag(stag.take().unwrap());
            }
        }
    }
    // an unclosed tag's code, like trailing text, is printed as text
    if !compiler.content.is_empty() {
        let content = std::mem::take(&mut compiler.content);
        compiler.put(&content);
    }
    compiler.line.push("_erbout".to_string());
    compiler.script.push_str(&compiler.line.join("; "));
    compiler.script
}

/// Finds the next start tag from `pos`: (end of text, end of tag, tag kind).
fn find_stag(template: &str, pos: usize, trim: bool) -> (usize, usize, Option<&'static str>) {
    let bytes = template.as_bytes();
    let mut i = pos;
    while i < bytes.len() {
        // `^[ \t]*<%-`: at a line start, indentation followed by `<%-`
        if trim && (i == 0 || bytes[i - 1] == b'\n') {
            let mut j = i;
            while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'\t') {
                j += 1;
            }
            if template[j..].starts_with("<%-") {
                return (i, j + 3, Some("<%"));
            }
        }
        if bytes[i] == b'<' && template[i..].starts_with("<%") {
            let next = bytes.get(i + 2).copied();
            return match next {
                Some(b'-') if trim => (i, i + 3, Some("<%")),
                Some(b'%') => (i, i + 3, Some("<%%")),
                Some(b'=') => (i, i + 3, Some("<%=")),
                Some(b'#') => (i, i + 3, Some("<%#")),
                _ => (i, i + 2, Some("<%")),
            };
        }
        i += 1;
    }
    (bytes.len(), bytes.len(), None)
}

struct Compiler {
    line: Vec<String>,
    script: String,
    content: String,
}

impl Compiler {
    fn cr(&mut self) {
        self.script.push_str(&self.line.join("; "));
        self.line.clear();
        self.script.push('\n');
    }

    fn put(&mut self, text: &str) {
        let newlines = "\n".repeat(text.matches('\n').count());
        self.line.push(format!("_erbout.<< {}.freeze{newlines}", quote(text)));
    }

    fn flush_text(&mut self) {
        if !self.content.is_empty() {
            let content = std::mem::take(&mut self.content);
            self.put(&content);
        }
    }

    fn close_tag(&mut self, stag: &str) {
        let mut content = std::mem::take(&mut self.content);
        match stag {
            "<%=" => self.line.push(format!("_erbout.<<(({content}).to_s)")),
            "<%#" => self.line.push("\n".repeat(content.matches('\n').count())),
            _ => {
                if content.ends_with('\n') {
                    content.pop();
                    self.line.push(content);
                    self.cr();
                } else {
                    self.line.push(content);
                }
            }
        }
    }
}

/// A double-quoted Ruby literal for `text` (like `String#dump`, but keeping UTF-8 as is).
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '#' if matches!(chars.peek(), Some('{' | '$' | '@')) => out.push_str("\\#"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::compile;

    /// Expected programs are ERB 4.0's `ERB.new(t, trim_mode: "-").src` (Ruby 3.3), without its
    /// `#coding` line and with UTF-8 kept as is.
    #[test]
    fn same_program_as_erb() {
        let t = "a <%= x %>\n<% if y -%>\n  b \"q\" #{z} \\ é\n<%- end -%>\n  <%- foo %>   \nc <%% d %%> <%# comment\n multi %>\n<%= 1 -%> x\n<% multi\n line %>\nend\n";
        let want = "_erbout = +''; _erbout.<< \"a \".freeze; _erbout.<<(( x ).to_s); _erbout.<< \"\\n\".freeze\n;  if y \n_erbout.<< \"  b \\\"q\\\" \\#{z} \\\\ é\\n\".freeze\n;  end \n foo ; _erbout.<< \"   \\nc <% d %%> \".freeze\n; \n; _erbout.<< \"\\n\".freeze\n; _erbout.<<(( 1 ).to_s); _erbout.<< \" x\\n\".freeze\n;  multi\n line ; _erbout.<< \"\\nend\\n\".freeze\n\n; _erbout";
        assert_eq!(compile(t), want);
    }

    #[test]
    fn edge_cases_as_erb() {
        // (template, ERB 4.0's program)
        let cases = [
            ("a <% b", "_erbout = +''; _erbout.<< \"a \".freeze; _erbout.<< \" b\".freeze; _erbout"),
            ("<% x -%>", "_erbout = +'';  x \n_erbout"),
            ("", "_erbout = +''; _erbout"),
            (
                "x\n  <%- a -%>\n  <%- b -%>\ny",
                "_erbout = +''; _erbout.<< \"x\\n\".freeze\n;  a \n b \n_erbout.<< \"y\".freeze; _erbout",
            ),
            ("<%= a -%>\r\nb", "_erbout = +''; _erbout.<<(( a ).to_s)\n_erbout.<< \"b\".freeze; _erbout"),
            ("a<%-b%>", "_erbout = +''; _erbout.<< \"a\".freeze; b; _erbout"),
            (" \t<%- c %>", "_erbout = +'';  c ; _erbout"),
            ("<%%= x %>", "_erbout = +''; _erbout.<< \"<%= x %>\".freeze; _erbout"),
            ("<%= 'a %%> b' %>", "_erbout = +''; _erbout.<<(( 'a %> b' ).to_s); _erbout"),
            ("<% x %%> y %>", "_erbout = +'';  x %> y ; _erbout"),
            ("a\n<%#x\ny-%>\nb", "_erbout = +''; _erbout.<< \"a\\n\".freeze\n; \n\n_erbout.<< \"b\".freeze; _erbout"),
        ];
        for (template, program) in cases {
            assert_eq!(compile(template), program, "{template:?}");
        }
    }
}
