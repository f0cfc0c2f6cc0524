//! One view of the three kinds of values a request's arguments come as: written in the
//! document (`Value`, variables allowed), a variable's default (`ConstValue`), and a
//! variable sent as JSON. The nesting guards and the NUL rule walk all three alike.

use async_graphql_value::{ConstValue, Value};
use serde_json::Value as Json;

/// What a value is, as far as a walk over it cares.
pub enum Shape<'a, T> {
    /// A string.
    Text(&'a str),
    /// A list of values.
    List(&'a [T]),
    /// An object's fields, by name.
    Object(Box<dyn Iterator<Item = (&'a str, &'a T)> + 'a>),
    /// Anything else (numbers, booleans, null, enums, variables).
    Other,
}

/// A value that can say what it is.
pub trait Tree: Sized {
    /// Its shape.
    fn shape(&self) -> Shape<'_, Self>;
}

/// The three value types differ only in the name of their list variant.
macro_rules! tree {
    ($type:ty, $list:ident) => {
        impl Tree for $type {
            fn shape(&self) -> Shape<'_, Self> {
                match self {
                    Self::String(text) => Shape::Text(text),
                    Self::$list(items) => Shape::List(items),
                    Self::Object(fields) => {
                        Shape::Object(Box::new(fields.iter().map(|(k, v)| (k.as_str(), v))))
                    }
                    _ => Shape::Other,
                }
            }
        }
    };
}

tree!(Value, List);
tree!(ConstValue, List);
tree!(Json, Array);

/// How many lists and objects `value` nests (0 for a scalar), walked without recursion.
pub fn depth<T: Tree>(value: &T) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 0)];
    while let Some((value, at)) = pending.pop() {
        match value.shape() {
            Shape::List(items) => {
                deepest = deepest.max(at + 1);
                pending.extend(items.iter().map(|item| (item, at + 1)));
            }
            Shape::Object(fields) => {
                deepest = deepest.max(at + 1);
                pending.extend(fields.map(|(_, item)| (item, at + 1)));
            }
            Shape::Text(_) | Shape::Other => {}
        }
    }
    deepest
}
