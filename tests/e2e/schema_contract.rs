//! The schema is a contract: the committed SDL matches the code, and every type, field,
//! argument and enum value is described.

use dermis_tests::{TestServer, dermis, on_both_databases, run, without_database};
use serde_json::{Value, json};

without_database! {
    async fn committed_sdl_matches_the_code() {
        let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
        let committed = std::fs::read_to_string(committed_path).expect("api/schema.graphql is committed");
        let dir = dermis_tests::tempfile::tempdir().expect("dir");
        let mut command = dermis(dir.path());
        command.arg("schema");
        let output = run(command).await;
        assert_eq!(output.code, Some(0));
        assert!(
            output.stdout == committed,
            "api/schema.graphql differs from the code's schema; review the change and run\n  \
             cargo run -q -p dermis-api -- schema > api/schema.graphql"
        );
    }
}

const INTROSPECTION: &str = r#"{
  __schema {
    types {
      name kind description
      fields(includeDeprecated: true) { name description args { name description } }
      inputFields { name description }
      enumValues(includeDeprecated: true) { name description }
    }
  }
}"#;

fn described(value: &Value) -> bool {
    value["description"]
        .as_str()
        .is_some_and(|d| !d.trim().is_empty())
}

on_both_databases! {
    async fn every_type_field_argument_and_enum_value_has_a_description(backend) {
        let server = TestServer::on(backend).start().await;
        let data = server.query(INTROSPECTION, json!({})).await;
        let mut missing = Vec::new();
        let types = data["__schema"]["types"].as_array().expect("types");
        assert!(types.len() > 20, "introspection answered");
        for ty in types {
            let name = ty["name"].as_str().unwrap_or_default();
            if name.starts_with("__") {
                continue;
            }
            if !described(ty) {
                missing.push(name.to_owned());
            }
            for field in ty["fields"].as_array().into_iter().flatten() {
                let field_name = field["name"].as_str().unwrap_or_default();
                if !described(field) {
                    missing.push(format!("{name}.{field_name}"));
                }
                for arg in field["args"].as_array().into_iter().flatten() {
                    if !described(arg) {
                        missing.push(format!("{name}.{field_name}({})", arg["name"]));
                    }
                }
            }
            for item in ty["inputFields"].as_array().into_iter().flatten().chain(ty["enumValues"].as_array().into_iter().flatten()) {
                if !described(item) {
                    missing.push(format!("{name}.{}", item["name"]));
                }
            }
        }
        assert!(missing.is_empty(), "undescribed: {missing:?}");
    }
}
