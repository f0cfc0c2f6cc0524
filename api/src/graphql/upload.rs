//! The `Upload` scalar of the GraphQL multipart request spec, parsed without panicking.
//!
//! async-graphql's own `Upload` unwraps the number after its `#__graphql_file__:` prefix,
//! so a document spelling `"#__graphql_file__:-1"` inline dropped the connection (found by
//! schemathesis). This scalar has the same name and wire form and refuses such a value with
//! a validation error instead.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// The placeholder the multipart request parser puts where a variable names a file part.
const PREFIX: &str = "#__graphql_file__:";

/// A file part of a GraphQL multipart request (its index among the request's files).
#[derive(Debug, Clone, Copy)]
pub struct FilePart(pub async_graphql::Upload);

/// A multipart file upload
#[Scalar(
    name = "Upload",
    specified_by_url = "https://github.com/jaydenseric/graphql-multipart-request-spec"
)]
impl ScalarType for FilePart {
    fn parse(value: Value) -> InputValueResult<Self> {
        if let Value::String(text) = &value
            && let Some(index) = text
                .strip_prefix(PREFIX)
                .and_then(|n| n.parse::<usize>().ok())
        {
            return Ok(Self(async_graphql::Upload(index)));
        }
        Err(InputValueError::custom(
            "a file is sent as a part of a GraphQL multipart request, not as a value",
        ))
    }

    fn to_value(&self) -> Value {
        Value::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_parsers_placeholder_names_a_part() {
        let parse = |text: &str| FilePart::parse(Value::String(text.into())).map(|f| f.0.0);
        assert_eq!(parse("#__graphql_file__:3").ok(), Some(3));
        for bad in [
            "#__graphql_file__:-1",
            "#__graphql_file__:",
            "#__graphql_file__:x",
            "#__graphql_file__:99999999999999999999999",
            "photo.jpg",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(FilePart::parse(Value::Null).is_err());
    }
}
