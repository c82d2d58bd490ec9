//! Graph export: GraphML (Gephi, yEd, NetworkX) and JSON.

use std::fmt::Write;

use serde_json::json;

use crate::engine::Rag;
use crate::error::{Error, Result};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    GraphMl,
    Json,
}

impl std::str::FromStr for GraphFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "graphml" => Ok(GraphFormat::GraphMl),
            "json" => Ok(GraphFormat::Json),
            other => Err(Error::InvalidInput(format!(
                "unknown graph format '{other}': use graphml or json"
            ))),
        }
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

const NODE_KEYS: [&str; 6] = [
    "entity_id",
    "entity_type",
    "description",
    "source_id",
    "file_path",
    "created_at",
];
const EDGE_KEYS: [&str; 6] = [
    "weight",
    "description",
    "keywords",
    "source_id",
    "file_path",
    "created_at",
];

impl Rag {
    /// The whole knowledge graph in the given format.
    pub async fn export_graph(&self, format: GraphFormat) -> Result<String> {
        let nodes = self.stores.graph.all_nodes().await?;
        let edges = self.stores.graph.all_edges().await?;
        match format {
            GraphFormat::Json => {
                let v = json!({"nodes": nodes, "edges": edges});
                serde_json::to_string_pretty(&v).map_err(|e| Error::InvalidInput(e.to_string()))
            }
            GraphFormat::GraphMl => {
                let mut s = String::new();
                let w = |s: &mut String, t: String| s.push_str(&t);
                w(&mut s, "<?xml version='1.0' encoding='utf-8'?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n".into());
                for (i, k) in NODE_KEYS.iter().enumerate() {
                    let ty = if *k == "created_at" { "long" } else { "string" };
                    let _ = writeln!(
                        s,
                        "  <key id=\"d{i}\" for=\"node\" attr.name=\"{k}\" attr.type=\"{ty}\"/>"
                    );
                }
                for (i, k) in EDGE_KEYS.iter().enumerate() {
                    let ty = match *k {
                        "weight" => "double",
                        "created_at" => "long",
                        _ => "string",
                    };
                    let _ = writeln!(
                        s,
                        "  <key id=\"e{i}\" for=\"edge\" attr.name=\"{k}\" attr.type=\"{ty}\"/>"
                    );
                }
                s.push_str("  <graph edgedefault=\"undirected\">\n");
                for n in &nodes {
                    let vals = [
                        n.entity_id.clone(),
                        n.entity_type.clone(),
                        n.description.clone(),
                        n.source_id.clone(),
                        n.file_path.clone(),
                        n.created_at.to_string(),
                    ];
                    let _ = writeln!(s, "    <node id=\"{}\">", xml_escape(&n.entity_id));
                    for (i, v) in vals.iter().enumerate() {
                        let _ = writeln!(s, "      <data key=\"d{i}\">{}</data>", xml_escape(v));
                    }
                    s.push_str("    </node>\n");
                }
                for e in &edges {
                    let vals = [
                        e.weight.to_string(),
                        e.description.clone(),
                        e.keywords.clone(),
                        e.source_id.clone(),
                        e.file_path.clone(),
                        e.created_at.to_string(),
                    ];
                    let _ = writeln!(
                        s,
                        "    <edge source=\"{}\" target=\"{}\">",
                        xml_escape(&e.src_id),
                        xml_escape(&e.tgt_id)
                    );
                    for (i, v) in vals.iter().enumerate() {
                        let _ = writeln!(s, "      <data key=\"e{i}\">{}</data>", xml_escape(v));
                    }
                    s.push_str("    </edge>\n");
                }
                s.push_str("  </graph>\n</graphml>\n");
                Ok(s)
            }
        }
    }
}
