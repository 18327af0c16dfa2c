//! The outline rendered: Markdown, and one self-contained HTML file.

use super::Block;
use std::fmt::Write as _;

/// Markdown.
pub fn render_markdown(blocks: &[Block]) -> String {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "{} {text}\n", "#".repeat(*level as usize));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{text}\n");
            }
            Block::List(items) => {
                for i in items {
                    let _ = writeln!(out, "- {i}");
                }
                out.push('\n');
            }
            Block::Table { head, rows } => {
                let _ = writeln!(
                    out,
                    "| {} |",
                    head.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | ")
                );
                let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
                for r in rows {
                    let _ = writeln!(
                        out,
                        "| {} |",
                        r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
                    );
                }
                out.push('\n');
            }
            Block::Figure { stem, caption } => {
                let _ = writeln!(
                    out,
                    "![{caption}]({stem}.png)\n\n{caption} ([SVG]({stem}.svg))\n"
                );
            }
            Block::Code(text) => {
                let _ = writeln!(out, "```\n{text}\n```\n");
            }
        }
    }
    out
}

fn esc(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

/// HTML, one self-contained file: each figure's PNG inline as a data URI,
/// linked to its SVG beside it.
pub fn render_html(blocks: &[Block], title: &str, png: &dyn Fn(&str) -> Option<Vec<u8>>) -> String {
    use base64::Engine as _;
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\nbody{{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}}\ntable{{border-collapse:collapse;margin:1em 0;font-size:0.9em}}\nth,td{{border:1px solid #ccc;padding:0.3em 0.6em;text-align:left;vertical-align:top}}\nth{{background:#f2f2f2}}\nfigure{{margin:1.5em 0}}\nimg{{max-width:100%}}\npre{{background:#f6f6f6;padding:0.8em;overflow-x:auto}}\n</style>\n</head>\n<body>\n",
        esc(title)
    );
    for block in blocks {
        match block {
            Block::Heading(level, text) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", esc(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "<p>{}</p>", esc(text));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    let _ = writeln!(out, "<li>{}</li>", esc(i));
                }
                out.push_str("</ul>\n");
            }
            Block::Table { head, rows } => {
                out.push_str("<table>\n<tr>");
                for h in head {
                    let _ = write!(out, "<th>{}</th>", esc(h));
                }
                out.push_str("</tr>\n");
                for r in rows {
                    out.push_str("<tr>");
                    for c in r {
                        let _ = write!(out, "<td>{}</td>", esc(c));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
            Block::Figure { stem, caption } => {
                let src = png(stem).map_or_else(
                    || format!("{}.png", esc(stem)),
                    |bytes| {
                        format!(
                            "data:image/png;base64,{}",
                            base64::engine::general_purpose::STANDARD.encode(bytes)
                        )
                    },
                );
                let _ = writeln!(
                    out,
                    "<figure>\n<a href=\"{s}.svg\"><img src=\"{src}\" alt=\"{c}\"></a>\n<figcaption>{c} (<a href=\"{s}.svg\">SVG</a>)</figcaption>\n</figure>",
                    s = esc(stem),
                    c = esc(caption)
                );
            }
            Block::Code(text) => {
                let _ = writeln!(out, "<pre><code>{}</code></pre>", esc(text));
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}
