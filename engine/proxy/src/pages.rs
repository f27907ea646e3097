//! Error pages the proxy itself answers with (404 no service, 413 body too large, 502 target
//! unreachable, 503 unavailable or maintenance, 504 timeout or drained). A service may bring its
//! own directory of `<status>.html` templates (`--error-pages`); these understand the subset of Go
//! templates that Kamal apps use: `{{ .Message }}` and `{{ if .Message }}..{{ else }}..{{ end }}`.

use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Default, Clone)]
pub struct ErrorPages {
    templates: HashMap<u16, String>,
}

impl ErrorPages {
    /// Loads every `NNN.html` in `dir`. A missing or unreadable directory, or a page whose
    /// template does not parse, is an error (upstream: "unable to load error pages").
    pub fn load(dir: &Path) -> Result<Self, String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("unable to load error pages: {}: {e}", dir.display()))?;
        let mut templates = HashMap::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let Some(code) = name.strip_suffix(".html").and_then(|c| c.parse::<u16>().ok()) else {
                continue;
            };
            let text = std::fs::read_to_string(entry.path())
                .map_err(|e| format!("unable to load error pages: {name}: {e}"))?;
            render(&text, "").map_err(|e| format!("unable to load error pages: {name}: {e}"))?;
            templates.insert(code, text);
        }
        Ok(Self { templates })
    }

    /// The service's own page for `status`, if it has one.
    pub fn render(&self, status: u16, message: &str) -> Option<String> {
        self.templates.get(&status).and_then(|t| render(t, message).ok())
    }
}

/// The built-in page for `status`.
pub fn default_page(status: u16, message: &str) -> String {
    let (title, text) = match status {
        404 => ("404 Not Found", "The page you were looking for doesn't exist."),
        413 => ("413 Request Entity Too Large", "The request was larger than this service accepts."),
        502 => ("502 Bad Gateway", "The service is not answering right now. Please try again in a moment."),
        503 => ("503 Service Temporarily Unavailable", "The service is temporarily unavailable. It may be overloaded, or undergoing scheduled maintenance. Please try again later."),
        504 => ("504 Gateway Timeout", "The service took too long to answer. Please try again in a moment."),
        _ => ("Error", "Something went wrong."),
    };
    let body = if message.is_empty() { text.to_string() } else { escape_html(message) };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>{title}</title>\
<meta name=\"viewport\" content=\"initial-scale=1, width=device-width\"><meta name=\"robots\" content=\"noindex, nofollow\">\
<style>body{{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;background:#0971d5;color:#fff;text-align:center}}</style></head>\n\
<body><main><h1>{title}</h1><p>{body}</p></main></body>\n</html>\n"
    )
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the template subset described in the module doc.
pub fn render(template: &str, message: &str) -> Result<String, String> {
    let mut out = String::new();
    // Stack of (condition, in_else) for nested ifs; output is emitted when all are active.
    let mut stack: Vec<(bool, bool)> = vec![];
    let active = |stack: &Vec<(bool, bool)>| stack.iter().all(|(cond, in_else)| cond != in_else);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        if active(&stack) {
            out.push_str(&rest[..start]);
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("unclosed action")?;
        let action = after[..end].trim().trim_start_matches('-').trim_end_matches('-').trim();
        match action {
            ".Message" => {
                if active(&stack) {
                    out.push_str(&escape_html(message));
                }
            }
            "if .Message" => stack.push((!message.is_empty(), false)),
            "else" => stack.last_mut().ok_or("else without if")?.1 = true,
            "end" => {
                stack.pop().ok_or("end without if")?;
            }
            other => return Err(format!("unsupported template action {{{{ {other} }}}}")),
        }
        rest = &after[end + 2..];
    }
    if !stack.is_empty() {
        return Err("unclosed if".into());
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_message_conditionals() {
        let t = "<p>{{ if .Message }}{{ .Message }}{{ else }}Down{{ end }}</p>";
        assert_eq!(render(t, "Back <soon>").unwrap(), "<p>Back &lt;soon&gt;</p>");
        assert_eq!(render(t, "").unwrap(), "<p>Down</p>");
        assert!(render("{{ .Other }}", "").is_err());
        assert!(render("{{ if .Message }}", "").is_err());
    }

    #[test]
    fn loads_pages_from_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("503.html"), "maint: {{ .Message }}").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let pages = ErrorPages::load(dir.path()).unwrap();
        assert_eq!(pages.render(503, "db").unwrap(), "maint: db");
        assert!(pages.render(502, "").is_none());
        assert!(ErrorPages::load(&dir.path().join("missing")).unwrap_err().starts_with("unable to load error pages"));
    }
}
