//! PHP arrays to and from JSON values, the form the core takes and gives.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::types::{ArrayKey, ZendHashTable, Zval};
use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};

const MAX_DEPTH: usize = 32;

/// A PHP array as a JSON object (keys as strings; a list becomes `"0"`, `"1"`, ...).
///
/// # Errors
/// [`Error::Validation`] naming `field` when a value cannot be represented (objects,
/// resources, nesting deeper than 32).
pub fn array_to_map(array: &ZendHashTable, field: &str) -> Result<Map<String, Value>> {
    let mut map = Map::new();
    for (key, value) in array.iter() {
        let key = key_string(&key);
        let v = zval_to_value(value, &format!("{field}.{key}"), 0)?;
        map.insert(key, v);
    }
    Ok(map)
}

fn key_string(key: &ArrayKey<'_>) -> String {
    match key {
        ArrayKey::Long(n) => n.to_string(),
        ArrayKey::String(s) => s.clone(),
        ArrayKey::Str(s) => (*s).to_string(),
        ArrayKey::ZendString(s) => s.as_str().unwrap_or_default().to_string(),
    }
}

fn zval_to_value(zval: &Zval, field: &str, depth: usize) -> Result<Value> {
    let zval = zval.dereference();
    if depth > MAX_DEPTH {
        return Err(Error::validation(field, "is nested too deeply"));
    }
    if zval.is_null() {
        return Ok(Value::Null);
    }
    if let Some(b) = zval.bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = zval.long() {
        return Ok(Value::Number(n.into()));
    }
    if let Some(f) = zval.double() {
        return Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| Error::validation(field, "must be a finite number"));
    }
    if let Some(s) = zval.string() {
        return Ok(Value::String(s));
    }
    if zval.is_string() {
        return Err(Error::validation(field, "must be valid UTF-8 text"));
    }
    if let Some(array) = zval.array() {
        let mut map = Map::new();
        for (key, value) in array.iter() {
            let key = key_string(&key);
            let v = zval_to_value(value, &format!("{field}.{key}"), depth + 1)?;
            map.insert(key, v);
        }
        if array.has_sequential_keys() {
            return Ok(Value::Array(map.into_iter().map(|(_, v)| v).collect()));
        }
        return Ok(Value::Object(map));
    }
    Err(Error::validation(
        field,
        format!(
            "has a {} where a string, number, boolean or array is expected",
            zval.get_type()
        ),
    ))
}

/// A JSON object as a PHP array.
pub fn map_to_array(map: &Map<String, Value>) -> ZBox<ZendHashTable> {
    let mut ht = ZendHashTable::with_capacity(map.len() as u32);
    for (key, value) in map {
        let _ = ht.insert(key.as_str(), value_to_zval(value));
    }
    ht
}

/// A JSON value as a PHP value (objects become associative arrays, arrays become lists).
pub fn value_to_zval(value: &Value) -> Zval {
    let mut z = Zval::new();
    match value {
        Value::Null => z.set_null(),
        Value::Bool(b) => z.set_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => z.set_long(i),
            None => z.set_double(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => {
            let _ = z.set_string(s, false);
        }
        Value::Array(items) => {
            let mut ht = ZendHashTable::with_capacity(items.len() as u32);
            for item in items {
                let _ = ht.push(value_to_zval(item));
            }
            z.set_hashtable(ht);
        }
        Value::Object(map) => z.set_hashtable(map_to_array(map)),
    }
    z
}

/// Any serialisable core value as a PHP array.
///
/// # Errors
/// [`Error::Database`] only if `value` does not serialise to a JSON object (a bug).
pub fn to_array<T: serde::Serialize>(value: &T) -> Result<ZBox<ZendHashTable>> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => Ok(map_to_array(&map)),
        Ok(other) => Err(Error::Database(format!(
            "internal: expected an object, got {other}"
        ))),
        Err(e) => Err(Error::Database(format!("internal: {e}"))),
    }
}

/// A positive id from PHP as `T` (`u32`, `u64`); `what` names the kind in the message
/// (`"zone "`: "must be a positive zone id").
///
/// # Errors
/// [`Error::Validation`] on `field` for zero, a negative number or one too large for `T`.
pub fn positive_id<T: TryFrom<i64> + PartialOrd + Default>(
    value: i64,
    field: &str,
    what: &str,
) -> Result<T> {
    T::try_from(value)
        .ok()
        .filter(|v| *v > T::default())
        .ok_or_else(|| {
            Error::validation(field, format!("must be a positive {what}id, got {value}"))
        })
}

/// The `server_passwords` option (server id => decrypted password) as a map.
///
/// # Errors
/// [`Error::Validation`] on `server_passwords` for a key that is not a server id.
pub fn server_passwords(
    map: &Map<String, Value>,
) -> Result<std::collections::HashMap<i64, String>> {
    map.iter()
        .map(|(id, pw)| {
            let id = id.parse::<i64>().map_err(|_| {
                Error::validation("server_passwords", format!("'{id}' is not a server id"))
            })?;
            Ok((id, pw.as_str().unwrap_or_default().to_string()))
        })
        .collect()
}
