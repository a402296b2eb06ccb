//! The partition-load model: what each partition key would take at a given
//! rate of enrollments (2,000 a second), from the counted calls of a real
//! run. DynamoDB serves at most 1,000 write units and 3,000 read units a
//! second on one partition key value, in the table and in each global
//! secondary index; adaptive capacity spreads a table over partitions but
//! never splits one key.
//!
//! A key's units in the run, divided by the run's enrollments and
//! multiplied by the rate, is its load at that rate when every enrollment
//! may touch it (a shared key: a window's index partition, a counter). A
//! key of one person, application or message (an id, a hash, a user
//! code, an address) is touched by one family whatever the rate: its load
//! is bounded by what one family puts on it, not scaled. Keys are grouped
//! into classes by replacing those parts with placeholders; a family of
//! keys ending `#<n>` is a sharded key, whose busiest shard is the one
//! that limits.

use std::collections::BTreeMap;

use crate::counter::Load;

/// The rate the model is made for, enrollments a second.
pub const RATE: f64 = 2000.0;
/// DynamoDB's limits per partition key value, per second.
pub const WRITE_LIMIT: f64 = 1000.0;
pub const READ_LIMIT: f64 = 3000.0;

/// How a class of keys grows with the rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One key that every enrollment may touch.
    Shared,
    /// Keys `…#<n>`: one shared key spread over shards.
    Sharded,
    /// A key per person, application or message.
    PerItem,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Shared => "shared",
            Kind::Sharded => "sharded",
            Kind::PerItem => "per family",
        }
    }
}

/// Load per second.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rate {
    pub requests: f64,
    pub rru: f64,
    pub wru: f64,
    /// The part of `wru` written in transactions, counted twice.
    pub transact_wru: f64,
}

impl Rate {
    /// `load` spread over `enrollments`, at `rate` enrollments a second.
    pub fn scaled(load: &Load, enrollments: usize, rate: f64) -> Self {
        let per = rate / enrollments.max(1) as f64;
        Self {
            requests: load.requests as f64 * per,
            rru: load.rru * per,
            wru: load.wru * per,
            transact_wru: load.transact_wru * per,
        }
    }

    /// The units as they are (for a key of one family).
    pub fn whole(load: &Load) -> Self {
        Self {
            requests: load.requests as f64,
            rru: load.rru,
            wru: load.wru,
            transact_wru: load.transact_wru,
        }
    }

    /// The WRU if the writes of transactions were counted once (an index
    /// entry written by a transaction may well be: see the report).
    pub fn wru_single(&self) -> f64 {
        self.wru - self.transact_wru / 2.0
    }

    /// The share of the partition's limit used: 1 is the limit.
    pub fn utilisation(&self) -> f64 {
        (self.wru / WRITE_LIMIT).max(self.rru / READ_LIMIT)
    }

    pub fn within(&self) -> bool {
        self.wru <= WRITE_LIMIT && self.rru <= READ_LIMIT
    }
}

/// A key's class: the key with its per-item parts replaced, whether it
/// has such parts, and whether it ends in a shard number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classed {
    pub class: String,
    pub per_item: bool,
    pub sharded: bool,
}

/// Runs of at least this many hex digits are ids or hashes.
const HEX_RUN: usize = 16;

/// One `#` segment with its random parts replaced; whether it had any.
fn class_segment(segment: &str) -> (String, bool) {
    if segment.contains('@') {
        return ("<email>".into(), true);
    }
    if segment.len() == 8 && segment.bytes().all(|b| b.is_ascii_digit()) {
        return ("<code>".into(), true);
    }
    // Runs of hex digits between other characters (`app-<24 hex>`, a
    // 64-digit keyed hash).
    let mut out = String::new();
    let mut replaced = false;
    let mut run = String::new();
    let mut flush = |run: &mut String, out: &mut String, whole: bool| {
        if run.len() >= HEX_RUN {
            out.push_str(if whole { "<hash>" } else { "<id>" });
            replaced = true;
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in segment.chars() {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run.push(c);
        } else {
            flush(&mut run, &mut out, false);
            out.push(c);
        }
    }
    let whole = out.is_empty();
    flush(&mut run, &mut out, whole);
    (out, replaced)
}

/// The class of a partition label (`table TENANT#demo#APP#app-…`).
pub fn classify(label: &str) -> Classed {
    let (index, key) = label.split_once(' ').unwrap_or(("", label));
    let segments: Vec<&str> = key.split('#').collect();
    let last = segments.len().saturating_sub(1);
    let mut per_item = false;
    let mut sharded = false;
    let parts: Vec<String> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i == last
                && i > 0
                && (1..=3).contains(&s.len())
                && s.bytes().all(|b| b.is_ascii_digit())
            {
                sharded = true;
                return "<n>".to_owned();
            }
            let (c, r) = class_segment(s);
            per_item |= r;
            c
        })
        .collect();
    let key = parts.join("#");
    Classed {
        class: if index.is_empty() {
            key
        } else {
            format!("{index} {key}")
        },
        per_item,
        sharded,
    }
}

/// One class of keys in the model.
#[derive(Debug, Clone)]
pub struct Class {
    pub class: String,
    pub kind: Kind,
    /// Distinct keys seen in the run.
    pub keys: usize,
    pub busiest: String,
    /// The busiest key: per second at the model's rate (shared, sharded),
    /// or its units in the whole run (per family).
    pub peak: Rate,
    /// Sharded: the mean per shard seen, per second at the rate.
    pub mean: Option<Rate>,
    /// The class's units in the whole run.
    pub run: Load,
}

/// The keys of one class, with their load.
type Keys<'a> = Vec<(&'a String, &'a Load)>;

/// The classes of `partitions` (a run's tally) for a run of `enrollments`,
/// busiest first.
pub fn model(partitions: &BTreeMap<String, Load>, enrollments: usize, rate: f64) -> Vec<Class> {
    let mut groups: BTreeMap<String, (Classed, Keys<'_>)> = BTreeMap::new();
    for (label, load) in partitions {
        let c = classify(label);
        groups
            .entry(c.class.clone())
            .or_insert_with(|| (c, Vec::new()))
            .1
            .push((label, load));
    }
    let mut out: Vec<Class> = groups
        .into_values()
        .map(|(c, keys)| {
            let mut run = Load::default();
            for (_, l) in &keys {
                run.add(l);
            }
            // A per-item class whose keys are few is shared in fact (a
            // placeholder that every family hits): scaled, to be safe.
            let kind = if c.per_item && keys.len() * 2 >= enrollments.max(1) {
                Kind::PerItem
            } else if c.sharded && !c.per_item {
                Kind::Sharded
            } else {
                Kind::Shared
            };
            let rate_of = |l: &Load| match kind {
                Kind::PerItem => Rate::whole(l),
                _ => Rate::scaled(l, enrollments, rate),
            };
            let (busiest, peak) = keys
                .iter()
                .map(|(k, l)| ((*k).clone(), rate_of(l)))
                .max_by(|a, b| a.1.utilisation().total_cmp(&b.1.utilisation()))
                .unwrap_or_default();
            let mean = (kind == Kind::Sharded).then(|| {
                let r = Rate::scaled(&run, enrollments, rate);
                let n = keys.len().max(1) as f64;
                Rate {
                    requests: r.requests / n,
                    rru: r.rru / n,
                    wru: r.wru / n,
                    transact_wru: r.transact_wru / n,
                }
            });
            Class {
                class: c.class,
                kind,
                keys: keys.len(),
                busiest,
                peak,
                mean,
                run,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.peak
            .utilisation()
            .total_cmp(&a.peak.utilisation())
            .then_with(|| a.class.cmp(&b.class))
    });
    out
}

/// Enrollments a second before the first shared or sharded key passes its
/// limit, and that class: `rate × min(limit / load at rate)`. With
/// `mean_shards`, a sharded class counts its mean shard (writes evenly
/// spread) rather than the busiest one the run saw.
pub fn sustainable(classes: &[Class], rate: f64, mean_shards: bool) -> Option<(f64, &Class)> {
    classes
        .iter()
        .filter(|c| c.kind != Kind::PerItem)
        .map(|c| {
            let load = match (mean_shards, c.mean) {
                (true, Some(m)) => m,
                _ => c.peak,
            };
            (load.utilisation(), c)
        })
        .filter(|(u, _)| *u > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(u, c)| (rate / u, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_classed_by_their_random_parts() {
        let c = classify("table TENANT#demo#APP#app-0123456789abcdef01234567");
        assert_eq!(c.class, "table TENANT#demo#APP#app-<id>");
        assert!(c.per_item && !c.sharded);
        let c = classify(&format!("table TENANT#demo#ADDR#{}", "ab12".repeat(16)));
        assert_eq!(c.class, "table TENANT#demo#ADDR#<hash>");
        let c = classify("table TENANT#demo#OUTBOX#app-0123456789abcdef01234567-credentials");
        assert_eq!(c.class, "table TENANT#demo#OUTBOX#app-<id>-credentials");
        let c = classify("table TENANT#demo#USERCODE#48213977");
        assert_eq!(c.class, "table TENANT#demo#USERCODE#<code>");
        let c = classify("gsi1 TENANT#demo#WINDOW#w-refezione-2026#submitted#3");
        assert_eq!(
            c.class,
            "gsi1 TENANT#demo#WINDOW#w-refezione-2026#submitted#<n>"
        );
        assert!(c.sharded && !c.per_item);
        let c = classify("table TENANT#demo");
        assert_eq!(c.class, "table TENANT#demo");
        assert!(!c.sharded && !c.per_item);
        assert_eq!(classify("table a#b@example.it").class, "table a#<email>");
    }

    fn load(requests: u64, rru: f64, wru: f64) -> Load {
        Load {
            requests,
            rru,
            wru,
            transact_wru: 0.0,
        }
    }

    #[test]
    fn shared_keys_scale_with_the_rate_and_per_family_keys_do_not() {
        let mut p = BTreeMap::new();
        // 100 enrollments: a counter written by each, twice.
        p.insert("table T#COUNTER".to_string(), load(200, 0.0, 200.0));
        // Two shards, unevenly written.
        p.insert("gsi1 T#W#submitted#0".to_string(), load(30, 0.0, 30.0));
        p.insert("gsi1 T#W#submitted#1".to_string(), load(70, 0.0, 70.0));
        for i in 0..100 {
            p.insert(format!("table T#APP#app-{i:024x}"), load(5, 2.0, 12.0));
        }
        let m = model(&p, 100, 2000.0);
        assert_eq!(m[0].class, "table T#COUNTER");
        // 200 WRU / 100 enrollments × 2,000 a second.
        assert_eq!(m[0].peak.wru, 4000.0);
        assert!(!m[0].peak.within());
        let shards = m
            .iter()
            .find(|c| c.kind == Kind::Sharded)
            .expect("the sharded class");
        assert_eq!((shards.keys, shards.peak.wru), (2, 1400.0));
        assert_eq!(shards.mean.map(|r| r.wru), Some(1000.0));
        let apps = m
            .iter()
            .find(|c| c.kind == Kind::PerItem)
            .expect("the per-family class");
        assert_eq!((apps.keys, apps.peak.wru), (100, 12.0));
        // The counter limits: 2,000 × 1,000 / 4,000.
        let (rate, class) = sustainable(&m, 2000.0, false).expect("a limit");
        assert_eq!((rate, class.class.as_str()), (500.0, "table T#COUNTER"));
    }
}
