//! The relation graph of a directive page: a small inline SVG, readable
//! without JavaScript and in print. What the directive carries out sits
//! above it, what carries it out below.

use crate::resolve::{Id, SiteGraph, Target};
use pulldown_cmark_escape::{escape_href, escape_html};
use std::fmt::Write as _;

const BOX_W: usize = 170;
const BOX_H: usize = 34;
const GAP: usize = 16;
const ROW: usize = 70;
const MAX_PER_ROW: usize = 6;

struct Node {
    label: String,
    url: Option<String>,
}

/// Empty when the directive has no relation to draw.
pub fn svg(graph: &SiteGraph, id: Id, root: &str) -> String {
    let above: Vec<Node> = graph.implements[id]
        .iter()
        .map(|(r, t)| Node {
            label: r.number.clone(),
            url: match t {
                Target::Found(t) => Some(graph.directive(*t).url()),
                _ => None,
            },
        })
        .take(MAX_PER_ROW)
        .collect();
    let below: Vec<Node> = graph.implemented_by[id]
        .iter()
        .take(MAX_PER_ROW)
        .map(|&i| Node {
            label: graph.directive(i).number.clone(),
            url: Some(graph.directive(i).url()),
        })
        .collect();
    if above.is_empty() && below.is_empty() {
        return String::new();
    }
    let widest = above.len().max(below.len()).max(1);
    let width = widest * (BOX_W + GAP) + GAP;
    let rows = 1 + usize::from(!above.is_empty()) + usize::from(!below.is_empty());
    let height = rows * ROW;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"relation-graph\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-labelledby=\"relation-graph-title\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"relation-graph-title\">Sơ đồ quan hệ văn bản</title>"
    );
    let center_y = if above.is_empty() { 10 } else { 10 + ROW };
    let center_x = width / 2;
    let row_x = |n: usize, i: usize| {
        let total = n * BOX_W + (n - 1) * GAP;
        (width - total) / 2 + i * (BOX_W + GAP)
    };
    for (i, node) in above.iter().enumerate() {
        let x = row_x(above.len(), i);
        edge(&mut out, x + BOX_W / 2, 10 + BOX_H, center_x, center_y);
        node_box(&mut out, x, 10, node, root, "other");
    }
    for (i, node) in below.iter().enumerate() {
        let x = row_x(below.len(), i);
        let y = center_y + ROW;
        edge(&mut out, center_x, center_y + BOX_H, x + BOX_W / 2, y);
        node_box(&mut out, x, y, node, root, "other");
    }
    let me = Node {
        label: graph.directive(id).number.clone(),
        url: None,
    };
    node_box(&mut out, center_x - BOX_W / 2, center_y, &me, root, "self");
    out.push_str("</svg>");
    out
}

fn edge(out: &mut String, x1: usize, y1: usize, x2: usize, y2: usize) {
    let _ = write!(
        out,
        "<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" class=\"edge\"/>"
    );
}

fn node_box(out: &mut String, x: usize, y: usize, node: &Node, root: &str, class: &str) {
    if let Some(url) = &node.url {
        out.push_str("<a href=\"");
        let _ = escape_href(&mut *out, &format!("{root}{url}"));
        out.push_str("\">");
    }
    let _ = write!(
        out,
        "<rect x=\"{x}\" y=\"{y}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"4\" class=\"node {class}\"/>"
    );
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">",
        x + BOX_W / 2,
        y + BOX_H / 2 + 5
    );
    let _ = escape_html(&mut *out, &node.label);
    out.push_str("</text>");
    if node.url.is_some() {
        out.push_str("</a>");
    }
}
