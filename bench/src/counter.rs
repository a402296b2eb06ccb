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
//! (half when eventually consistent, a query sums the items it returns, a
//! batch read rounds each item), and a write also writes the indexes the
//! item is (or was) in: `gsi1` (projection ALL) once, or twice when the
//! item's index key changes; `gsi2` (projection KEYS_ONLY, an entry the
//! size of the keys) only when the item enters, leaves or moves in it.
//!
//! Every unit is also attributed to the partition it lands on, keyed
//! `table <pk>`, `gsi1 <gsi1pk>` or `gsi2 <gsi2pk>`: the partition-load
//! model of `crate::partitions` is made of these.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::batch_get_item::{BatchGetItemInput, BatchGetItemOutput};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::get_item::{GetItemInput, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::query::{QueryInput, QueryOutput};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemInput, UpdateItemOutput};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use shared::aws::dynamo::{GSI1, GSI1_PK, GSI1_SK, GSI2, GSI2_PK, GSI2_SK, PK, SK};

type Item = HashMap<String, AttributeValue>;
type Key = (String, String);

/// The label of the table in partition keys (`table <pk>`).
pub const TABLE: &str = "table";

/// The partition label of `key` in `index` (`table`, `gsi1`, `gsi2`).
pub fn partition(index: &str, key: &str) -> String {
    format!("{index} {key}")
}

/// What one partition key took: operations on it (an item of a
/// transaction or of a batch counts one; an index entry written counts
/// one), and capacity units.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Load {
    pub requests: u64,
    pub rru: f64,
    pub wru: f64,
    /// The part of `wru` written in transactions (counted twice there).
    pub transact_wru: f64,
}

impl Load {
    pub fn add(&mut self, other: &Load) {
        self.requests += other.requests;
        self.rru += other.rru;
        self.wru += other.wru;
        self.transact_wru += other.transact_wru;
    }
}

/// What one journey step (or one scheduled run, or a whole load run)
/// asked of AWS.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Operations by `Service:Operation`, e.g. `DynamoDB:GetItem`.
    pub calls: BTreeMap<String, u64>,
    /// HTTP attempts answered (more than `calls` when the SDK retried).
    pub attempts: u64,
    /// Operations that got no answer in the end, by `Service:Operation
    /// kind` (`timeout`, `connection`, `unreadable response`; an error
    /// answer, such as a failed condition, is an answer).
    pub errors: BTreeMap<String, u64>,
    /// DynamoDB read request units.
    pub rru: f64,
    /// DynamoDB write request units, index writes included.
    pub wru: f64,
    /// The part of `wru` spent on the indexes (`gsi1`, `gsi2`).
    pub index_wru: f64,
    /// The load by partition key: `table <pk>`, `gsi1 <gsi1pk>`,
    /// `gsi2 <gsi2pk>`.
    pub partitions: BTreeMap<String, Load>,
    /// The same by item within the partition: its sort key, `Query` for
    /// a query's reads, `entries` for an index's writes.
    pub items: BTreeMap<(String, String), Load>,
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

    /// The index WRU by index partition (`gsi1 …`, `gsi2 …`).
    pub fn index_partitions(&self) -> impl Iterator<Item = (&str, f64)> {
        self.partitions
            .iter()
            .filter(|(k, l)| !k.starts_with(TABLE) && l.wru > 0.0)
            .map(|(k, l)| (k.as_str(), l.wru))
    }

    pub fn add(&mut self, other: &Tally) {
        for (k, n) in &other.calls {
            *self.calls.entry(k.clone()).or_default() += n;
        }
        self.attempts += other.attempts;
        for (k, n) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += n;
        }
        self.rru += other.rru;
        self.wru += other.wru;
        self.index_wru += other.index_wru;
        for (k, l) in &other.partitions {
            self.partitions.entry(k.clone()).or_default().add(l);
        }
        for (k, l) in &other.items {
            self.items.entry(k.clone()).or_default().add(l);
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

    fn charge(&mut self, label: &str, item: &str, load: Load) {
        self.partitions
            .entry(label.to_owned())
            .or_default()
            .add(&load);
        self.items
            .entry((label.to_owned(), item.to_owned()))
            .or_default()
            .add(&load);
    }
}

/// What is known of a stored item: its size and its index keys.
#[derive(Debug, Clone, Default)]
struct Known {
    size: usize,
    gsi1: Option<Key>,
    gsi2: Option<Key>,
    /// The size of its `gsi2` entry (KEYS_ONLY: the table's and the
    /// index's key attributes).
    gsi2_size: usize,
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

    /// The items written since the last call that still exist.
    pub fn take_written(&self) -> Storage {
        let written = std::mem::take(&mut self.lock().written);
        let mut s = Storage::default();
        for k in written.values() {
            s.items += 1;
            s.item_bytes += k.size as u64;
            if k.gsi1.is_some() {
                s.indexed_items += 1;
                s.indexed_bytes += k.size as u64;
            }
            if k.gsi2.is_some() {
                s.keys_only_entries += 1;
                s.keys_only_bytes += k.gsi2_size as u64;
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
    /// Items in `gsi1` (projection ALL: the whole item again).
    pub indexed_items: u64,
    pub indexed_bytes: u64,
    /// Entries in `gsi2` (projection KEYS_ONLY).
    pub keys_only_entries: u64,
    pub keys_only_bytes: u64,
}

impl Storage {
    /// Billed bytes: DynamoDB adds 100 bytes per item, in the table and in
    /// each index entry.
    pub fn billed_bytes(&self) -> u64 {
        self.item_bytes
            + 100 * self.items
            + self.indexed_bytes
            + 100 * self.indexed_items
            + self.keys_only_bytes
            + 100 * self.keys_only_entries
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

fn index_key(item: &Item, pk: &str, sk: &str) -> Option<Key> {
    Some((string(item, pk)?, string(item, sk)?))
}

/// The size of a KEYS_ONLY entry: the table's and the index's keys.
fn keys_only_size(primary: Option<&Key>, index: Option<&Key>) -> usize {
    let pair = |k: Option<&Key>, a: &str, b: &str| {
        k.map_or(0, |(x, y)| a.len() + x.len() + b.len() + y.len())
    };
    pair(primary, PK, SK) + pair(index, GSI2_PK, GSI2_SK)
}

fn write_units(bytes: usize) -> f64 {
    bytes.max(1).div_ceil(1024) as f64
}

fn read_units(bytes: usize) -> f64 {
    bytes.max(1).div_ceil(4096) as f64
}

/// The capacity of one item write, before the transaction factor: the
/// table's WRU on the item's partition, and the index entries written,
/// each with its partition label and WRU.
#[derive(Debug, Clone, Default, PartialEq)]
struct Write {
    table_key: Option<Key>,
    table: f64,
    index: Vec<(String, f64)>,
}

/// The writes of an index with projection ALL: the entry is the item, so
/// every write of an indexed item writes it (twice when its key moves).
fn all_projection(
    index: &str,
    old: Option<(&Key, usize)>,
    new: Option<(&Key, usize)>,
) -> Vec<(String, f64)> {
    let at = |k: &Key, size: usize| (partition(index, &k.0), write_units(size));
    match (old, new) {
        (None, None) => vec![],
        (None, Some((b, n))) => vec![at(b, n)],
        (Some((a, o)), None) => vec![at(a, o)],
        (Some((a, o)), Some((b, n))) if a == b => vec![at(a, o.max(n))],
        (Some((a, o)), Some((b, n))) => vec![at(a, o), at(b, n)],
    }
}

/// The writes of an index with projection KEYS_ONLY: an item that keeps
/// its index key does not write it, whatever else changes.
fn keys_only(
    index: &str,
    old: Option<(&Key, usize)>,
    new: Option<(&Key, usize)>,
) -> Vec<(String, f64)> {
    match (old, new) {
        (Some((a, _)), Some((b, _))) if a == b => vec![],
        _ => all_projection(index, old, new),
    }
}

/// The capacity of one write of the item under `key` (`new` is `None`
/// for a delete); updates `known` and `written`.
fn write(state: &mut State, key: Option<Key>, new: Option<Known>) -> Write {
    let old = key.as_ref().and_then(|k| state.known.get(k)).cloned();
    let old_size = old.as_ref().map_or(0, |o| o.size);
    let new_size = new.as_ref().map_or(0, |n| n.size);
    let mut index = all_projection(
        GSI1,
        old.as_ref()
            .and_then(|o| o.gsi1.as_ref().map(|k| (k, o.size))),
        new.as_ref()
            .and_then(|n| n.gsi1.as_ref().map(|k| (k, n.size))),
    );
    index.extend(keys_only(
        GSI2,
        old.as_ref()
            .and_then(|o| o.gsi2.as_ref().map(|k| (k, o.gsi2_size))),
        new.as_ref()
            .and_then(|n| n.gsi2.as_ref().map(|k| (k, n.gsi2_size))),
    ));
    let out = Write {
        table_key: key.clone(),
        table: write_units(old_size.max(new_size)),
        index,
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
    out
}

fn known_of(item: &Item) -> Known {
    let gsi2 = index_key(item, GSI2_PK, GSI2_SK);
    Known {
        size: item_size(item),
        gsi1: index_key(item, GSI1_PK, GSI1_SK),
        gsi2_size: keys_only_size(primary_key(item).as_ref(), gsi2.as_ref()),
        gsi2,
    }
}

// ---- update expressions ----------------------------------------------------

/// What an update expression does to one attribute.
#[derive(Debug, Clone, PartialEq)]
enum Change {
    Keep,
    /// Set, to this string when the expression says it plainly.
    Set(Option<String>),
    Remove,
}

/// Split `text` at the commas outside parentheses.
fn top_level_commas(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// What `expression` (with its names and values) does to `attr`.
fn change(
    expression: &str,
    names: Option<&HashMap<String, String>>,
    values: Option<&HashMap<String, AttributeValue>>,
    attr: &str,
) -> Change {
    let is_attr = |path: &str| {
        let path = path.trim();
        path == attr || names.and_then(|n| n.get(path)).is_some_and(|a| a == attr)
    };
    // The clauses, each with its keyword.
    let mut clauses: Vec<(String, String)> = Vec::new();
    for word in expression.split_whitespace() {
        let upper = word.to_ascii_uppercase();
        if matches!(upper.as_str(), "SET" | "REMOVE" | "ADD" | "DELETE") {
            clauses.push((upper, String::new()));
        } else if let Some((_, body)) = clauses.last_mut() {
            body.push(' ');
            body.push_str(word);
        }
    }
    let mut out = Change::Keep;
    for (keyword, body) in &clauses {
        for part in top_level_commas(body) {
            match keyword.as_str() {
                "SET" => {
                    if let Some((lhs, rhs)) = part.split_once('=')
                        && is_attr(lhs)
                    {
                        let value = values
                            .and_then(|v| v.get(rhs.trim()))
                            .and_then(|v| v.as_s().ok())
                            .cloned();
                        out = Change::Set(value);
                    }
                }
                "REMOVE" if is_attr(part) => out = Change::Remove,
                _ => {}
            }
        }
    }
    out
}

/// An index key after an update that may set or remove its attributes.
fn updated_index_key(old: Option<Key>, pk: Change, sk: Change, unknown: &str) -> Option<Key> {
    if pk == Change::Remove || sk == Change::Remove {
        return None;
    }
    if pk == Change::Keep && sk == Change::Keep {
        return old;
    }
    let (old_pk, old_sk) = match &old {
        Some((p, s)) => (Some(p.clone()), Some(s.clone())),
        None => (None, None),
    };
    let pk = match pk {
        Change::Set(Some(v)) => v,
        Change::Set(None) => unknown.to_owned(),
        _ => old_pk.unwrap_or_else(|| unknown.to_owned()),
    };
    let sk = match sk {
        Change::Set(Some(v)) => v,
        // Another sort key whose value is not plain: marked as moved.
        Change::Set(None) => format!("{}'", old_sk.unwrap_or_default()),
        _ => old_sk.unwrap_or_default(),
    };
    Some((pk, sk))
}

/// An update's result is not sent back (unless asked for): its size is
/// taken as the old item's (1 KB when unknown), and an update that sets or
/// removes an index key attribute moves the item in (or out of) the index.
fn updated(
    state: &State,
    key: &Key,
    expression: Option<&str>,
    names: Option<&HashMap<String, String>>,
    values: Option<&HashMap<String, AttributeValue>>,
) -> Known {
    let old = state.known.get(key).cloned().unwrap_or(Known {
        size: 1024,
        ..Known::default()
    });
    let expression = expression.unwrap_or_default();
    let of = |attr: &str| change(expression, names, values, attr);
    let gsi1 = updated_index_key(
        old.gsi1.clone(),
        of(GSI1_PK),
        of(GSI1_SK),
        "(set by an update)",
    );
    let gsi2 = updated_index_key(
        old.gsi2.clone(),
        of(GSI2_PK),
        of(GSI2_SK),
        "(set by an update)",
    );
    Known {
        size: old.size,
        gsi2_size: keys_only_size(Some(key), gsi2.as_ref()),
        gsi1,
        gsi2,
    }
}

fn key_of(key: Option<&Item>) -> Option<Key> {
    key.and_then(primary_key)
}

// ---- reads ------------------------------------------------------------------

/// The index a query reads (`table`, `gsi1`, `gsi2`) and the attribute of
/// its partition key.
fn query_index(index_name: Option<&str>) -> (String, &'static str) {
    match index_name {
        None => (TABLE.to_owned(), PK),
        Some(GSI1) => (GSI1.to_owned(), GSI1_PK),
        Some(GSI2) => (GSI2.to_owned(), GSI2_PK),
        Some(other) => (other.to_owned(), ""),
    }
}

/// The partition a query reads: the value its key condition binds to the
/// partition key (`#pk = :pk`), or failing that the value `:pk`.
fn query_partition(i: &QueryInput) -> Option<String> {
    let (index, pk_attr) = query_index(i.index_name());
    let names = i.expression_attribute_names();
    let values = i.expression_attribute_values()?;
    let condition = i.key_condition_expression().unwrap_or_default();
    let value = condition
        .split(" AND ")
        .chain(condition.split(" and "))
        .filter_map(|c| c.split_once('='))
        .filter(|(lhs, _)| !lhs.ends_with(['<', '>', '!']))
        .find(|(lhs, _)| {
            let lhs = lhs.trim();
            lhs == pk_attr || names.and_then(|n| n.get(lhs)).is_some_and(|a| a == pk_attr)
        })
        .and_then(|(_, rhs)| values.get(rhs.trim()))
        .or_else(|| values.get(":pk"))
        .and_then(|v| v.as_s().ok())?;
    Some(partition(&index, value))
}

/// Carried from before serialisation to the end of the operation.
#[derive(Debug, Clone)]
struct Pending {
    name: String,
    /// The read's consistency factor (1 strongly consistent, 0.5 eventual).
    read_factor: f64,
    /// The primary key of a GetItem / UpdateItem, to learn the item's size.
    key: Option<Key>,
    /// The partition a GetItem or Query reads.
    read_partition: Option<String>,
    /// A query of a KEYS_ONLY index: its items are not whole items.
    keys_only_read: bool,
    /// The keys a BatchGetItem asks for.
    batch_keys: Vec<Key>,
    /// The writes, known from the input: (partition, item, WRU, an index
    /// entry), the transaction factor applied.
    writes: Vec<(String, String, f64, bool)>,
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

impl Pending {
    /// Record one item write, `factor` times its capacity (2 in a
    /// transaction: in the table and, we assume conservatively, in the
    /// indexes).
    fn wrote(&mut self, w: Write, factor: f64) {
        if let Some((pk, sk)) = w.table_key {
            self.writes
                .push((partition(TABLE, &pk), sk, factor * w.table, false));
        }
        for (label, units) in w.index {
            self.writes
                .push((label, "entries".to_owned(), factor * units, true));
        }
    }
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
            read_partition: None,
            keys_only_read: false,
            batch_keys: Vec::new(),
            writes: Vec::new(),
            transactional: false,
            bytes: 0,
            attempts: 0,
        };
        if service != "DynamoDB" {
            return pending;
        }
        if let Some(i) = input.downcast_ref::<PutItemInput>() {
            let item = i.item().cloned().unwrap_or_default();
            let w = write(&mut state, primary_key(&item), Some(known_of(&item)));
            pending.wrote(w, 1.0);
        } else if let Some(i) = input.downcast_ref::<UpdateItemInput>() {
            let key = key_of(i.key());
            if let Some(k) = &key {
                let new = updated(
                    &state,
                    k,
                    i.update_expression(),
                    i.expression_attribute_names(),
                    i.expression_attribute_values(),
                );
                let w = write(&mut state, key.clone(), Some(new));
                pending.wrote(w, 1.0);
            }
            pending.key = key;
        } else if let Some(i) = input.downcast_ref::<DeleteItemInput>() {
            let w = write(&mut state, key_of(i.key()), None);
            pending.wrote(w, 1.0);
        } else if let Some(i) = input.downcast_ref::<TransactWriteItemsInput>() {
            for action in i.transact_items() {
                let w = if let Some(p) = action.put() {
                    let item = p.item();
                    write(&mut state, primary_key(item), Some(known_of(item)))
                } else if let Some(u) = action.update() {
                    match primary_key(u.key()) {
                        Some(k) => {
                            let new = updated(
                                &state,
                                &k,
                                Some(u.update_expression()),
                                u.expression_attribute_names(),
                                u.expression_attribute_values(),
                            );
                            write(&mut state, Some(k), Some(new))
                        }
                        None => Write {
                            table: 1.0,
                            ..Write::default()
                        },
                    }
                } else if let Some(d) = action.delete() {
                    write(&mut state, primary_key(d.key()), None)
                } else if let Some(c) = action.condition_check() {
                    let key = primary_key(c.key());
                    let size = key
                        .as_ref()
                        .and_then(|k| state.known.get(k).map(|k| k.size))
                        .unwrap_or(0);
                    Write {
                        table_key: key,
                        table: write_units(size),
                        index: Vec::new(),
                    }
                } else {
                    Write::default()
                };
                // Transactional writes cost twice.
                pending.wrote(w, 2.0);
            }
            pending.transactional = true;
        } else if let Some(i) = input.downcast_ref::<GetItemInput>() {
            pending.read_factor = if i.consistent_read() == Some(true) {
                1.0
            } else {
                0.5
            };
            pending.key = key_of(i.key());
            pending.read_partition = pending.key.as_ref().map(|k| partition(TABLE, &k.0));
        } else if let Some(i) = input.downcast_ref::<QueryInput>() {
            // Index queries are always eventually consistent.
            pending.read_factor = if i.consistent_read() == Some(true) && i.index_name().is_none() {
                1.0
            } else {
                0.5
            };
            pending.read_partition = query_partition(i);
            pending.keys_only_read = i.index_name() == Some(GSI2);
        } else if let Some(i) = input.downcast_ref::<BatchGetItemInput>() {
            let requests: Vec<_> = i
                .request_items()
                .into_iter()
                .flat_map(|m| m.values())
                .collect();
            // One consistency for the whole batch here (the store asks for
            // one table at a time).
            pending.read_factor = if requests.iter().all(|r| r.consistent_read() == Some(true)) {
                1.0
            } else {
                0.5
            };
            pending.batch_keys = requests
                .iter()
                .flat_map(|r| r.keys())
                .filter_map(primary_key)
                .collect();
        }
        pending
    }

    fn failed(&self, name: &str, kind: &str) {
        *self
            .lock()
            .current
            .errors
            .entry(format!("{name} {kind}"))
            .or_default() += 1;
    }

    fn after(
        &self,
        pending: &Pending,
        output: Option<&aws_smithy_runtime_api::client::interceptors::context::Output>,
    ) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let current = &mut state.current;
        *current.calls.entry(pending.name.clone()).or_default() += 1;
        current.attempts += pending.attempts;
        for (label, item, units, index) in &pending.writes {
            current.wru += units;
            let transact_wru = if pending.transactional { *units } else { 0.0 };
            current.transact_wru += transact_wru;
            if *index {
                current.index_wru += units;
            }
            current.charge(
                label,
                item,
                Load {
                    requests: 1,
                    rru: 0.0,
                    wru: *units,
                    transact_wru,
                },
            );
        }
        if pending.name.starts_with("SES:") {
            current.ses_bytes += pending.bytes;
        } else if pending.name == "S3:PutObject" {
            current.s3_put_bytes += pending.bytes;
        }
        let read = |bytes: usize| read_units(bytes) * pending.read_factor;
        match pending.name.as_str() {
            "DynamoDB:GetItem" => {
                let item = output
                    .and_then(|o| o.downcast_ref::<GetItemOutput>())
                    .and_then(|o| o.item());
                let size = item.map_or(0, item_size);
                let sk = pending.key.as_ref().map_or("?", |k| k.1.as_str());
                charge_read(current, pending.read_partition.as_ref(), sk, read(size));
                if let (Some(item), Some(key)) = (item, pending.key.clone()) {
                    state.known.insert(key, known_of(item));
                }
            }
            "DynamoDB:Query" => {
                let out = output.and_then(|o| o.downcast_ref::<QueryOutput>());
                let items = out.map(|o| o.items()).unwrap_or_default();
                let mut total: usize = items.iter().map(item_size).sum();
                let scanned = out.map_or(0, |o| o.scanned_count().max(0) as usize);
                if items.is_empty() && scanned > 0 {
                    // `Select: COUNT` returns no items but reads them: as
                    // many entries as the index's known entries' mean size.
                    total = scanned * entry_size(&state.known, pending.keys_only_read);
                }
                charge_read(
                    current,
                    pending.read_partition.as_ref(),
                    "Query",
                    read(total),
                );
                if !pending.keys_only_read {
                    for item in items {
                        if let Some(key) = primary_key(item) {
                            state.known.insert(key, known_of(item));
                        }
                    }
                }
            }
            "DynamoDB:BatchGetItem" => {
                let found: HashMap<Key, &Item> = output
                    .and_then(|o| o.downcast_ref::<BatchGetItemOutput>())
                    .and_then(|o| o.responses())
                    .into_iter()
                    .flat_map(|r| r.values())
                    .flatten()
                    .filter_map(|item| primary_key(item).map(|k| (k, item)))
                    .collect();
                // Each item is rounded on its own, as a GetItem.
                for key in &pending.batch_keys {
                    let size = found.get(key).map_or(0, |i| item_size(i));
                    charge_read(current, Some(&partition(TABLE, &key.0)), &key.1, read(size));
                }
                for (key, item) in found {
                    state.known.insert(key, known_of(item));
                }
            }
            "DynamoDB:UpdateItem" => {
                // With ReturnValues ALL_NEW the real size comes back.
                if let (Some(item), Some(key)) = (
                    output
                        .and_then(|o| o.downcast_ref::<UpdateItemOutput>())
                        .and_then(|o| o.attributes()),
                    pending.key.clone(),
                ) && item.contains_key(PK)
                {
                    let known = known_of(item);
                    state.known.insert(key.clone(), known.clone());
                    state.written.insert(key, known);
                }
            }
            _ => {}
        }
    }
}

/// Record a read of `rru` units of `item` on `label`'s partition.
fn charge_read(current: &mut Tally, label: Option<&String>, item: &str, rru: f64) {
    current.rru += rru;
    if let Some(label) = label {
        current.charge(
            label,
            item,
            Load {
                requests: 1,
                rru,
                ..Load::default()
            },
        );
    }
}

/// The mean size of the known entries of an index (KEYS_ONLY entries or
/// whole items), for reads that return a count and no items.
fn entry_size(known: &HashMap<Key, Known>, keys_only: bool) -> usize {
    let sizes: Vec<usize> = known
        .values()
        .filter_map(|k| {
            if keys_only {
                k.gsi2.as_ref().map(|_| k.gsi2_size)
            } else {
                k.gsi1.as_ref().map(|_| k.size)
            }
        })
        .collect();
    if sizes.is_empty() {
        130
    } else {
        sizes.iter().sum::<usize>() / sizes.len()
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
        let Some(pending) = cfg.load::<Pending>() else {
            return Ok(());
        };
        let failure = match context.output_or_error() {
            Some(Err(e)) if e.is_timeout_error() => Some("timeout"),
            Some(Err(e)) if e.is_connector_error() => Some("connection"),
            Some(Err(e)) if e.is_response_error() => Some("unreadable response"),
            _ => None,
        };
        if let Some(kind) = failure {
            self.0.failed(&pending.name, kind);
        }
        // An operation whose every attempt timed out was sent all the same
        // (the service may have done it): counted.
        if pending.attempts > 0 || failure == Some("timeout") {
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

    fn key(pk: &str, sk: &str) -> Key {
        (pk.to_string(), sk.to_string())
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
        let k = key("a", "b");
        let first = Known {
            size: 300,
            gsi1: Some(key("W#draft", "1")),
            ..Known::default()
        };
        assert_eq!(
            write(&mut state, Some(k.clone()), Some(first)),
            Write {
                table_key: Some(k.clone()),
                table: 1.0,
                index: vec![("gsi1 W#draft".to_string(), 1.0)],
            }
        );
        let moved = Known {
            size: 1500,
            gsi1: Some(key("W#submitted", "2")),
            ..Known::default()
        };
        assert_eq!(
            write(&mut state, Some(k.clone()), Some(moved)).index,
            vec![
                ("gsi1 W#draft".to_string(), 1.0),
                ("gsi1 W#submitted".to_string(), 2.0)
            ]
        );
        let gone = write(&mut state, Some(k), None);
        assert_eq!(gone.table, 2.0);
        assert_eq!(gone.index, vec![("gsi1 W#submitted".to_string(), 2.0)]);
        assert!(state.written.is_empty());
    }

    #[test]
    fn a_keys_only_index_is_written_only_when_its_key_changes() {
        let mut state = State::default();
        let k = key("TENANT#demo#APP#app-1", "APP");
        let ranked = |size: usize, sk: &str| Known {
            size,
            gsi2: Some(key("R#1", sk)),
            gsi2_size: 120,
            ..Known::default()
        };
        assert_eq!(
            write(&mut state, Some(k.clone()), Some(ranked(2000, "x"))).index,
            vec![("gsi2 R#1".to_string(), 1.0)]
        );
        // Other attributes change, the index key stays: no index write.
        assert!(
            write(&mut state, Some(k.clone()), Some(ranked(3000, "x")))
                .index
                .is_empty()
        );
        // A new sort key: the old entry deleted, the new one put.
        assert_eq!(
            write(&mut state, Some(k), Some(ranked(3000, "y"))).index,
            vec![("gsi2 R#1".to_string(), 1.0), ("gsi2 R#1".to_string(), 1.0)]
        );
    }

    #[test]
    fn updates_are_read_for_the_index_keys_they_set_or_remove() {
        let names = HashMap::from([
            ("#gpk".to_string(), GSI1_PK.to_string()),
            ("#gsk".to_string(), GSI1_SK.to_string()),
            ("#r".to_string(), GSI2_PK.to_string()),
        ]);
        let values = HashMap::from([
            (":p".to_string(), s("W#submitted#3")),
            (":one".to_string(), AttributeValue::N("1".into())),
        ]);
        let expr = "SET #gpk = :p, #gsk = if_not_exists(#gsk, :x) ADD #n :one REMOVE #r";
        let of = |attr: &str| change(expr, Some(&names), Some(&values), attr);
        assert_eq!(of(GSI1_PK), Change::Set(Some("W#submitted#3".into())));
        assert_eq!(of(GSI1_SK), Change::Set(None));
        assert_eq!(of(GSI2_PK), Change::Remove);
        assert_eq!(of(GSI2_SK), Change::Keep);
        assert_eq!(
            updated_index_key(Some(key("W#draft#3", "1")), of(GSI1_PK), of(GSI1_SK), "?"),
            Some(key("W#submitted#3", "1'"))
        );
        assert_eq!(
            updated_index_key(Some(key("R#1", "k")), of(GSI2_PK), of(GSI2_SK), "?"),
            None
        );
    }

    #[test]
    fn a_query_is_charged_to_the_partition_its_key_condition_names() {
        let query = QueryInput::builder()
            .table_name("t")
            .index_name(GSI1)
            .key_condition_expression("#k = :w AND #s <= :upper")
            .expression_attribute_names("#k", GSI1_PK)
            .expression_attribute_names("#s", GSI1_SK)
            .expression_attribute_values(":upper", s("9"))
            .expression_attribute_values(":w", s("OUTBOX#3"))
            .build()
            .expect("a query");
        assert_eq!(query_partition(&query).as_deref(), Some("gsi1 OUTBOX#3"));
        let table = QueryInput::builder()
            .table_name("t")
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :p)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s("TENANT#demo#APP#app-1"))
            .build()
            .expect("a query");
        assert_eq!(
            query_partition(&table).as_deref(),
            Some("table TENANT#demo#APP#app-1")
        );
    }
}
