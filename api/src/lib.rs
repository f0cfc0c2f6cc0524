//! Dermis: a GraphQL content API about skin procedures, with an embedded admin CMS.
//!
//! Layout: [`config`] reads settings, [`startup`] wires the HTTP server, [`http`] holds the
//! endpoints, [`graphql`] the schema, [`content`] the database reads and writes behind it.

pub mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod content;
pub mod db;
pub mod errors;
pub mod graphql;
pub mod http;
pub mod markdown;
pub mod media;
pub mod metrics;
pub mod scheduler;
pub mod startup;
pub mod telemetry;
pub mod webhooks;

#[cfg(test)]
mod layers;
