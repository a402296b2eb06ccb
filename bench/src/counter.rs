//! Counts what the stack asks of AWS, from inside the SDK: an interceptor on
//! the DynamoDB, SES and S3 clients of the bench's own stack (the shared
//! adapters are not touched). Every operation that reaches the service is
//! tallied under the journey step that is running (presigned links are
//! made through the same pipeline but never sent: they are not counted),
//! with the capacity DynamoDB would bill for it.
//!
//! The emulator answers `ConsumedCapacity` with a constant, so capacity is
//! computed here by DynamoDB's published rules from the items the SDK sends
//! and receives: a write is 1 WRU per started KB of the larger of the old
//! and the new item (2 inside a transaction), a read 1 RRU per started 4 KB
//! (half when eventually consistent, a query sums the items it returns), and
//! every write of an item that is (or was) in the `gsi1` index (projection
//! ALL) writes the index too: once, or twice when its index key changes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::get_item::{GetItemInput, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::query::{QueryInput, QueryOutput};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemInput, UpdateItemOutput};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use shared::aws::dynamo::{GSI1_PK, GSI1_SK, PK, SK};

type Item = HashMap<String, AttributeValue>;
type Key = (String, String);

/// What one journey step (or one scheduled run) asked of AWS.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Operations by `Service:Operation`, e.g. `DynamoDB:GetItem`.
    pub calls: BTreeMap<String, u64>,
    /// HTTP attempts (more than `calls` only when the SDK retried).
    pub attempts: u64,
    /// DynamoDB read request units.
    pub rru: f64,
    /// DynamoDB write request units, index writes included.
    pub wru: f64,
    /// The part of `wru` spent on the `gsi1` index.
    pub index_wru: f64,
    /// The index's WRU by index partition key (`gsi1pk`).
    pub index_partitions: BTreeMap<String, f64>,
    /// The part of `wru` spent in TransactWriteItems.
    pub transact_wru: f64,
    /// Bytes of the SES requests (the raw MIME message, form-encoded).
    pub ses_bytes: u64,
    /// Bytes of S3 objects put.
    pub s3_put_bytes: u64,
}

impl Tally {
    pub fn count(&self, prefix: &str) -> u64 {
        self.calls
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    }

    pub fn dynamodb_calls(&self) -> u64 {
        self.count("DynamoDB:")
    }

    pub fn ses_messages(&self) -> u64 {
        self.count("SES:SendRawEmail") + self.count("SES:SendEmail")
    }

    /// S3 requests billed at the PUT/COPY/POST/LIST rate.
    pub fn s3_put_class(&self) -> u64 {
        self.calls
            .iter()
            .filter(|(k, _)| {
                k.starts_with("S3:")
                    && !k.starts_with("S3:GetObject")
                    && !k.starts_with("S3:HeadObject")
            })
            .map(|(_, n)| n)
            .sum()
    }

    /// S3 requests billed at the GET rate (GET, HEAD).
    pub fn s3_get_class(&self) -> u64 {
        self.count("S3:GetObject") + self.count("S3:HeadObject")
    }

    pub fn add(&mut self, other: &Tally) {
        for (k, n) in &other.calls {
            *self.calls.entry(k.clone()).or_default() += n;
        }
        self.attempts += other.attempts;
        self.rru += other.rru;
        self.wru += other.wru;
        self.index_wru += other.index_wru;
        for (k, u) in &other.index_partitions {
            *self.index_partitions.entry(k.clone()).or_default() += u;
        }
        self.transact_wru += other.transact_wru;
        self.ses_bytes += other.ses_bytes;
        self.s3_put_bytes += other.s3_put_bytes;
    }

    /// `GetItem 2, Query 1, TransactWriteItems 1` (DynamoDB only).
    pub fn dynamodb_summary(&self) -> String {
        let parts: Vec<String> = self
            .calls
            .iter()
            .filter_map(|(k, n)| k.strip_prefix("DynamoDB:").map(|op| format!("{op} {n}")))
            .collect();
        if parts.is_empty() {
            "—".into()
        } else {
            parts.join(", ")
        }
    }
}

/// What is known of a stored item: its size and its index key.
#[derive(Debug, Clone)]
struct Known {
    size: usize,
    index_key: Option<Key>,
}

#[derive(Default)]
struct State {
    current: Tally,
    /// Every item seen, by primary key: the "old item" of the next write.
    known: HashMap<Key, Known>,
    /// Items written since `take_written` (deleted ones removed): the
    /// storage one journey leaves behind.
    written: HashMap<Key, Known>,
}

/// The interceptor; clone the `Arc` onto each client.
#[derive(Default)]
pub struct Counter {
    state: Mutex<State>,
}

impl std::fmt::Debug for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Counter")
    }
}

impl Counter {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The tally since the last call, and a fresh one.
    pub fn take(&self) -> Tally {
        std::mem::take(&mut self.lock().current)
    }

    /// The items written since the last call that still exist, as
    /// (count, bytes of items, items also in the index, bytes in the index).
    pub fn take_written(&self) -> Storage {
        let written = std::mem::take(&mut self.lock().written);
        let mut s = Storage::default();
        for k in written.values() {
            s.items += 1;
            s.item_bytes += k.size as u64;
            if k.index_key.is_some() {
                s.indexed_items += 1;
                s.indexed_bytes += k.size as u64;
            }
        }
        s
    }

    /// The largest known item whose primary key matches, e.g. the tenant's
    /// configuration (`TENANT#demo`, `CONFIG`).
    pub fn known_size(&self, pk: &str, sk: &str) -> Option<usize> {
        self.lock()
            .known
            .get(&(pk.to_owned(), sk.to_owned()))
            .map(|k| k.size)
    }

    /// The largest known item whose partition key starts with `prefix` and
    /// whose sort key is `sk`.
    pub fn largest(&self, prefix: &str, sk: &str) -> Option<usize> {
        self.lock()
            .known
            .iter()
            .filter(|((p, s), _)| p.starts_with(prefix) && s == sk)
            .map(|(_, k)| k.size)
            .max()
    }
}

/// Storage left by writes (see `Counter::take_written`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Storage {
    pub items: u64,
    pub item_bytes: u64,
    pub indexed_items: u64,
    pub indexed_bytes: u64,
}

impl Storage {
    /// Billed bytes: DynamoDB adds 100 bytes per item, in the table and in
    /// the index (whose entries, projection ALL, are the whole item).
    pub fn billed_bytes(&self) -> u64 {
        self.item_bytes + 100 * self.items + self.indexed_bytes + 100 * self.indexed_items
    }
}

// ---- item sizes, by DynamoDB's rules -------------------------------------

fn number_size(n: &str) -> usize {
    let digits = n.chars().filter(char::is_ascii_digit).count();
    digits.div_ceil(2) + 1
}

fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(l) => 3 + l.iter().map(|x| value_size(x) + 1).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, x)| k.len() + value_size(x) + 1)
                .sum::<usize>()
        }
        _ => 1,
    }
}

/// The size DynamoDB bills an item by: names and values, in bytes.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn string(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn primary_key(item: &Item) -> Option<Key> {
    Some((string(item, PK)?, string(item, SK)?))
}

fn index_key(item: &Item) -> Option<Key> {
    Some((string(item, GSI1_PK)?, string(item, GSI1_SK)?))
}

fn write_units(bytes: usize) -> f64 {
    bytes.max(1).div_ceil(1024) as f64
}

fn read_units(bytes: usize) -> f64 {
    bytes.max(1).div_ceil(4096) as f64
}

/// Index writes, by index partition key.
type IndexWrites = Vec<(String, f64)>;

/// The capacity of one write: the table's WRU and the index's writes,
/// before the transaction factor; updates `known` and `written`.
fn write(state: &mut State, key: Option<Key>, new: Option<Known>) -> (f64, IndexWrites) {
    let old = key.as_ref().and_then(|k| state.known.get(k)).cloned();
    let old_size = old.as_ref().map_or(0, |o| o.size);
    let new_size = new.as_ref().map_or(0, |n| n.size);
    let table = write_units(old_size.max(new_size));
    let old_index = old.as_ref().and_then(|o| o.index_key.clone());
    let new_index = new.as_ref().and_then(|n| n.index_key.clone());
    let index = match (old_index, new_index) {
        (None, None) => vec![],
        (None, Some(b)) => vec![(b.0, write_units(new_size))],
        (Some(a), None) => vec![(a.0, write_units(old_size))],
        (Some(a), Some(b)) if a == b => vec![(a.0, write_units(old_size.max(new_size)))],
        (Some(a), Some(b)) => vec![(a.0, write_units(old_size)), (b.0, write_units(new_size))],
    };
    if let Some(key) = key {
        match new {
            Some(n) => {
                state.known.insert(key.clone(), n.clone());
                state.written.insert(key, n);
            }
            None => {
                state.known.remove(&key);
                state.written.remove(&key);
            }
        }
    }
    (table, index)
}

fn known_of(item: &Item) -> Known {
    Known {
        size: item_size(item),
        index_key: index_key(item),
    }
}

/// An update's result is not sent back (unless asked for): its size is
/// taken as the old item's (1 KB when unknown), and an update that sets an
/// index key attribute moves the item in the index.
fn updated(
    state: &State,
    key: &Key,
    names: Option<&HashMap<String, String>>,
    values: Option<&HashMap<String, AttributeValue>>,
) -> Known {
    let old = state.known.get(key).cloned();
    let sets = |attr: &str| names.is_some_and(|n| n.values().any(|v| v == attr));
    let old_index = old.as_ref().and_then(|o| o.index_key.clone());
    let index_key = if sets(GSI1_PK) {
        // Moved to a partition whose name the update holds in a value.
        Some((
            "(set by an update)".to_owned(),
            values.map(|v| v.len().to_string()).unwrap_or_default(),
        ))
    } else if sets(GSI1_SK) {
        // The same partition, another sort key: moved within it.
        old_index
            .map(|(pk, sk)| (pk, format!("{sk}'")))
            .or_else(|| Some(("(set by an update)".to_owned(), String::new())))
    } else {
        old_index
    };
    Known {
        size: old.map_or(1024, |o| o.size),
        index_key,
    }
}

fn key_of(key: Option<&Item>) -> Option<Key> {
    key.and_then(primary_key)
}

/// Carried from before serialisation to the end of the operation.
#[derive(Debug, Clone)]
struct Pending {
    name: String,
    /// The read's consistency factor (1 strongly consistent, 0.5 eventual).
    read_factor: f64,
    /// The primary key of a GetItem / UpdateItem, to learn the item's size.
    key: Option<Key>,
    /// The write's capacity (table and index), known from the input.
    wru: f64,
    index: IndexWrites,
    transactional: bool,
    /// Request bytes of the last attempt.
    bytes: u64,
    /// Attempts that reached the service. Presigning runs the pipeline up
    /// to the transmission and stops: such an operation has none and is
    /// not counted.
    attempts: u64,
}

impl Storable for Pending {
    type Storer = StoreReplace<Self>;
}

impl Counter {
    fn before(
        &self,
        service: &str,
        operation: &str,
        input: &aws_smithy_runtime_api::client::interceptors::context::Input,
    ) -> Pending {
        let mut state = self.lock();
        let mut pending = Pending {
            name: format!("{service}:{operation}"),
            read_factor: 1.0,
            key: None,
            wru: 0.0,
            index: Vec::new(),
            transactional: false,
            bytes: 0,
            attempts: 0,
        };
        if service != "DynamoDB" {
            return pending;
        }
        let mut table = 0.0;
        let mut index: IndexWrites = Vec::new();
        if let Some(i) = input.downcast_ref::<PutItemInput>() {
            let item = i.item().cloned().unwrap_or_default();
            (table, index) = write(&mut state, primary_key(&item), Some(known_of(&item)));
        } else if let Some(i) = input.downcast_ref::<UpdateItemInput>() {
            let key = key_of(i.key());
            if let Some(k) = &key {
                let new = updated(
                    &state,
                    k,
                    i.expression_attribute_names(),
                    i.expression_attribute_values(),
                );
                (table, index) = write(&mut state, key.clone(), Some(new));
            }
            pending.key = key;
        } else if let Some(i) = input.downcast_ref::<DeleteItemInput>() {
            (table, index) = write(&mut state, key_of(i.key()), None);
        } else if let Some(i) = input.downcast_ref::<TransactWriteItemsInput>() {
            for action in i.transact_items() {
                let (t, x) = if let Some(p) = action.put() {
                    let item = p.item();
                    write(&mut state, primary_key(item), Some(known_of(item)))
                } else if let Some(u) = action.update() {
                    match primary_key(u.key()) {
                        Some(k) => {
                            let new = updated(
                                &state,
                                &k,
                                u.expression_attribute_names(),
                                u.expression_attribute_values(),
                            );
                            write(&mut state, Some(k), Some(new))
                        }
                        None => (1.0, Vec::new()),
                    }
                } else if let Some(d) = action.delete() {
                    write(&mut state, primary_key(d.key()), None)
                } else if let Some(c) = action.condition_check() {
                    let size = primary_key(c.key())
                        .and_then(|k| state.known.get(&k).map(|k| k.size))
                        .unwrap_or(0);
                    (write_units(size), Vec::new())
                } else {
                    (0.0, Vec::new())
                };
                // Transactional writes cost twice, in the table and (we
                // assume, conservatively) in the index.
                table += 2.0 * t;
                index.extend(x.into_iter().map(|(k, u)| (k, 2.0 * u)));
            }
            pending.transactional = true;
        } else if let Some(i) = input.downcast_ref::<GetItemInput>() {
            pending.read_factor = if i.consistent_read() == Some(true) {
                1.0
            } else {
                0.5
            };
            pending.key = key_of(i.key());
        } else if let Some(i) = input.downcast_ref::<QueryInput>() {
            // Index queries are always eventually consistent.
            pending.read_factor = if i.consistent_read() == Some(true) && i.index_name().is_none() {
                1.0
            } else {
                0.5
            };
        }
        pending.wru = table + index.iter().map(|(_, u)| u).sum::<f64>();
        pending.index = index;
        pending
    }

    fn after(
        &self,
        pending: &Pending,
        output: Option<&aws_smithy_runtime_api::client::interceptors::context::Output>,
    ) {
        let mut state = self.lock();
        *state.current.calls.entry(pending.name.clone()).or_default() += 1;
        state.current.attempts += pending.attempts;
        state.current.wru += pending.wru;
        if pending.transactional {
            state.current.transact_wru += pending.wru;
        }
        for (k, u) in &pending.index {
            state.current.index_wru += u;
            *state.current.index_partitions.entry(k.clone()).or_default() += u;
        }
        if pending.name.starts_with("SES:") {
            state.current.ses_bytes += pending.bytes;
        } else if pending.name == "S3:PutObject" {
            state.current.s3_put_bytes += pending.bytes;
        }
        let read = |bytes: usize| read_units(bytes) * pending.read_factor;
        match pending.name.as_str() {
            "DynamoDB:GetItem" => {
                let item = output
                    .and_then(|o| o.downcast_ref::<GetItemOutput>())
                    .and_then(|o| o.item());
                let size = item.map_or(0, item_size);
                state.current.rru += read(size);
                if let (Some(item), Some(key)) = (item, pending.key.clone()) {
                    state.known.insert(key, known_of(item));
                }
            }
            "DynamoDB:Query" => {
                let items = output
                    .and_then(|o| o.downcast_ref::<QueryOutput>())
                    .map(|o| o.items())
                    .unwrap_or_default();
                let total: usize = items.iter().map(item_size).sum();
                state.current.rru += read(total);
                for item in items {
                    if let Some(key) = primary_key(item) {
                        state.known.insert(key, known_of(item));
                    }
                }
            }
            "DynamoDB:UpdateItem" => {
                // With ReturnValues ALL_NEW the real size comes back.
                if let (Some(item), Some(key)) = (
                    output
                        .and_then(|o| o.downcast_ref::<UpdateItemOutput>())
                        .and_then(|o| o.attributes()),
                    pending.key.clone(),
                ) {
                    let known = known_of(item);
                    state.known.insert(key.clone(), known.clone());
                    state.written.insert(key, known);
                }
            }
            _ => {}
        }
    }
}

/// The counter as an SDK interceptor (`.interceptor(Interceptor(counter))`
/// on each client's configuration).
#[derive(Debug, Clone)]
pub struct Interceptor(pub Arc<Counter>);

impl Intercept for Interceptor {
    fn name(&self) -> &'static str {
        "bench request counter"
    }

    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_owned(), m.name().to_owned()))
            .unwrap_or_else(|| ("?".into(), "?".into()));
        let pending = self.0.before(&service, &operation, context.input());
        cfg.interceptor_state().store_put(pending);
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let bytes = context
            .request()
            .headers()
            .get("content-length")
            .and_then(|v| v.parse::<u64>().ok())
            .or_else(|| context.request().body().bytes().map(|b| b.len() as u64))
            .unwrap_or(0);
        if let Some(mut pending) = cfg.load::<Pending>().cloned() {
            pending.bytes = bytes;
            cfg.interceptor_state().store_put(pending);
        }
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(mut pending) = cfg.load::<Pending>().cloned() {
            pending.attempts += 1;
            cfg.interceptor_state().store_put(pending);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(pending) = cfg.load::<Pending>().filter(|p| p.attempts > 0) {
            let output = context.output_or_error().and_then(Result::ok);
            self.0.after(pending, output);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn sizes_follow_the_published_rules() {
        let item: Item = HashMap::from([
            ("pk".to_string(), s("TENANT#demo")),
            ("n".to_string(), AttributeValue::N("12345".into())),
        ]);
        // "pk" 2 + 11, "n" 1 + 3 + 1.
        assert_eq!(item_size(&item), 2 + 11 + 1 + 4);
        assert_eq!(write_units(1024), 1.0);
        assert_eq!(write_units(1025), 2.0);
        assert_eq!(read_units(0), 1.0);
        assert_eq!(read_units(4097), 2.0);
    }

    #[test]
    fn a_write_that_moves_an_item_in_the_index_writes_it_twice() {
        let mut state = State::default();
        let key = ("a".to_string(), "b".to_string());
        let first = Known {
            size: 300,
            index_key: Some(("W#draft".into(), "1".into())),
        };
        assert_eq!(
            write(&mut state, Some(key.clone()), Some(first)),
            (1.0, vec![("W#draft".to_string(), 1.0)])
        );
        let moved = Known {
            size: 1500,
            index_key: Some(("W#submitted".into(), "2".into())),
        };
        assert_eq!(
            write(&mut state, Some(key.clone()), Some(moved)),
            (
                2.0,
                vec![
                    ("W#draft".to_string(), 1.0),
                    ("W#submitted".to_string(), 2.0)
                ]
            )
        );
        assert_eq!(
            write(&mut state, Some(key), None),
            (2.0, vec![("W#submitted".to_string(), 2.0)])
        );
        assert!(state.written.is_empty());
    }
}
