//! `seedream schema NAME`: the JSON Schema of a wire type, pretty-printed.

use clap::{Args, ValueEnum};

use crate::failure::{Exit, Failure};
use crate::output::Output;

/// The examples and notes under `--help`.
pub const AFTER_HELP: &str = "\
Examples:
  seedream schema
  seedream schema response > response.schema.json";

/// The schemas `schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaName {
    /// The generations request body.
    Request,
    /// The response body of both endpoints.
    Response,
    /// One server-sent event of a stream.
    StreamEvent,
    /// The error body.
    Error,
}

impl SchemaName {
    /// The name `seedream_types::schema::by_name` knows it by.
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaName::Request => "request",
            SchemaName::Response => "response",
            SchemaName::StreamEvent => "stream-event",
            SchemaName::Error => "error",
        }
    }
}

/// Options of `schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which schema.
    #[arg(value_enum, default_value = "request")]
    pub name: SchemaName,
}

/// Prints the schema.
pub fn run(args: &SchemaArgs, out: &Output) -> Exit {
    let name = args.name;
    match seedream_types::schema::by_name(name.as_str()) {
        Some(schema) => {
            // Printed the same with --json: the schema is the machine-readable result.
            out.text(&serde_json::to_string_pretty(&schema).unwrap_or_default());
            Exit::Success
        }
        None => {
            let failure = Failure::usage(format!("no schema called {}", name.as_str()));
            out.error(&failure.to_string());
            failure.exit
        }
    }
}
