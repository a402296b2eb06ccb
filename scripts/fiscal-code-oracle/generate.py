#!/usr/bin/env python3
"""Generate the fiscal-code oracle fixture for `shared::domain::fiscal_code`.

The Rust validator is checked against an independent implementation: PyPI's
`python-codicefiscale` (import name `codicefiscale`). This script uses that
library, with a fixed random seed, to

* encode valid codes for random people (names, sexes, birth dates between
  1930 and 2024, birthplaces drawn from the library's own municipality and
  country tables), add a good share of their omocodic variants (from the
  library's own `omocodes` list), calendar edge dates (29 February, month
  ends), a few codes whose check-character sum exceeds 255, and a few
  lowercase / padded spellings;
* corrupt valid codes in many ways (wrong check character, swapped or
  substituted characters, bad month letter, impossible day, wrong length,
  invalid or non-ASCII characters, illegal omocodic letters, ...);

and records, for every string, the ORACLE's verdict (`is_valid`), and for
every valid one the oracle's decoded birth date, sex and `is_omocode`.

Two kinds of generated strings are dropped, because they do not test what
the Rust validator is meant to decide (the counts are printed):

* "corrupted" strings that the oracle still accepts (e.g. a checksum
  collision, or an accented letter / inner hyphen that the oracle's slugify
  normalisation quietly removes);
* corrupted strings that the oracle rejects ONLY because their cadastral code
  is not in its registry of municipalities (the Rust validator checks the
  format of the birthplace code, not a registry).

The oracle's century rule reads the system clock (`datetime.now()`); to make
the fixture reproducible the clock of the oracle module is frozen at
ORACLE_TODAY, which is also written into the fixture so the Rust test can use
it as `today`.

Rerun (from the repository root):

    python3 -m venv /tmp/oracle-venv
    /tmp/oracle-venv/bin/pip install -r scripts/fiscal-code-oracle/requirements.txt
    /tmp/oracle-venv/bin/python scripts/fiscal-code-oracle/generate.py

It rewrites shared/tests/fixtures/fiscal_codes.json (or the path given as the
first argument); the output is byte-for-byte deterministic.
"""

from __future__ import annotations

import collections
import datetime as _dt
import json
import random
import string
import sys
from pathlib import Path
from typing import Any

import codicefiscale
from codicefiscale import codicefiscale as _cf_module
from codicefiscale.data import (
    get_countries_data,
    get_municipalities_data,
    get_names_data,
)

SEED = 13813_1976  # D.M. 13813/1976
ORACLE_TODAY = _dt.datetime(2026, 6, 30)
N_PEOPLE = 900  # base codes; omocodic and spelling variants come on top
N_CORRUPT = 1400
FIRST_YEAR, LAST_YEAR = 1930, 2024

OUTPUT = Path(__file__).resolve().parents[2] / "shared/tests/fixtures/fiscal_codes.json"

MONTH_LETTERS = "ABCDEHLMPRST"
BAD_MONTH_LETTERS = "".join(c for c in string.ascii_uppercase if c not in MONTH_LETTERS)
OMOCODE_LETTERS = "LMNPQRSTUV"  # stand for 0..9
NON_OMOCODE_LETTERS = "".join(
    c for c in string.ascii_uppercase if c not in OMOCODE_LETTERS
)
# 0-based indexes of the characters that omocodia may turn into letters
OMOCODE_POSITIONS = (6, 7, 9, 10, 12, 13, 14)
ALNUM = string.ascii_uppercase + string.digits
ODD_CHARS = "!#$%&*+./:;<=>?@[]_{|}~'\"\\"
NON_ASCII = ["À", "É", "ß", "Ω", "Ж", "€", "✓", "😀", "٣", "８", "Ａ", "\u0301", "\u200b", "ı"]


# --------------------------------------------------------------------------
# Freeze the oracle's clock (it calls `datetime.now()` for its century rule).
# The metaclass keeps `isinstance(x, datetime)` true for ordinary datetimes,
# which the library relies on.
class _FrozenMeta(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, _dt.datetime)


class _FrozenDatetime(_dt.datetime, metaclass=_FrozenMeta):
    @classmethod
    def now(cls, tz: Any = None) -> _dt.datetime:  # type: ignore[override]
        return ORACLE_TODAY


_cf_module.datetime = _FrozenDatetime  # type: ignore[attr-defined,misc]


# --------------------------------------------------------------------------
# Oracle helpers


def oracle_error(code: str) -> str | None:
    """The oracle's rejection message, or None if it accepts the code."""
    try:
        codicefiscale.decode(code)
    except ValueError as error:
        return str(error)
    return None


def cin(code15: str) -> str:
    """The library's own check character for 15 upper-case ASCII alphanumerics."""
    return codicefiscale.encode_cin(code15)


def parse_day(value: str | None) -> _dt.datetime | None:
    if not value:
        return None
    return _dt.datetime.fromisoformat(value)


# --------------------------------------------------------------------------
# Random people

SURNAME_SYLLABLES = [
    "ro", "ss", "ri", "bi", "an", "chi", "fer", "ra", "es", "po", "si", "to",
    "co", "lom", "bo", "gal", "lo", "ma", "ri", "no", "gre", "ric", "ci", "bru",
    "de", "lu", "ca", "man", "cin", "i", "sta", "gior", "da", "riz", "zo", "a",
    "e", "o", "u", "ve", "gli", "ter", "mo", "ret", "ti", "gu", "ar", "ba",
    "xu", "kh", "wy", "jo",
]
# People whose codes weigh more than 255 in the check-character sum: they catch
# an 8-bit accumulator (which overflows, or wraps to a wrong check character).
HIGH_CHECKSUM_PEOPLE = [
    ("Xzxzx", "Xzxzx", "F", "1999-08-29", "Z729"),
    ("Zyzzx", "Wyzwy", "F", "1989-08-29", "Z719"),
    ("Wyszx", "Zoxx", "M", "1979-08-19", "Z907"),
    ("Zizzo", "Xeno", "F", "1997-08-29", "Z729"),
]
SHORT_NAMES = ["Fo", "Ng", "Li", "Ai", "Oe", "Ua", "Bo", "Re", "Wu", "Io", "Al", "Ed"]


def random_surname(rng: random.Random) -> str:
    if rng.random() < 0.08:
        return rng.choice(SHORT_NAMES)
    parts = [rng.choice(SURNAME_SYLLABLES) for _ in range(rng.randint(1, 4))]
    name = "".join(parts).capitalize()
    if rng.random() < 0.1:
        name = rng.choice(["De ", "Di ", "D'", "La ", "Lo "]) + name
    return name


def random_firstname(rng: random.Random, sex: str, names: dict[str, list[str]]) -> str:
    if rng.random() < 0.05:
        return rng.choice(SHORT_NAMES)
    return rng.choice(names[sex])


def random_date(rng: random.Random) -> _dt.date:
    start = _dt.date(FIRST_YEAR, 1, 1).toordinal()
    end = _dt.date(LAST_YEAR, 12, 31).toordinal()
    return _dt.date.fromordinal(rng.randint(start, end))


def edge_dates() -> list[_dt.date]:
    """Dates that exercise the calendar edges: 29 Feb, month ends, year ends."""
    dates = [_dt.date(y, 2, 29) for y in range(1932, LAST_YEAR + 1, 4)]
    dates += [_dt.date(1930, 1, 1), _dt.date(LAST_YEAR, 12, 31), _dt.date(1999, 12, 31)]
    dates += [_dt.date(2000, 1, 1), _dt.date(2000, 2, 29), _dt.date(1900 + 77, 2, 28)]
    dates += [_dt.date(1955, m, 31) for m in (1, 3, 5, 7, 8, 10, 12)]
    dates += [_dt.date(2011, m, 30) for m in (4, 6, 9, 11)]
    return dates


def places_valid_on(places: list[dict[str, Any]], day: _dt.date, rng: random.Random):
    """A random registry entry (municipality or country) that existed on `day`."""
    when = _dt.datetime(day.year, day.month, day.day)
    for _ in range(200):
        place = rng.choice(places)
        created = parse_day(place["date_created"]) or _dt.datetime.min
        deleted = parse_day(place["date_deleted"]) or _dt.datetime.max
        if created <= when <= deleted:
            return place
    return None


# --------------------------------------------------------------------------
# Corruptions: each takes a valid (upper-case, 16-char) code and returns a
# string that should be invalid. Those marked `recompute` fix the check
# character afterwards, so that only the targeted rule is broken.


def set_char(code: str, index: int, char: str) -> str:
    return code[:index] + char + code[index + 1 :]


def with_cin(code: str) -> str:
    return code[:15] + cin(code[:15])


def c_check_char(rng, code):
    return set_char(code, 15, rng.choice([c for c in string.ascii_uppercase if c != code[15]]))


def c_check_char_digit(rng, code):
    return set_char(code, 15, rng.choice(string.digits))


def c_swap_adjacent(rng, code):
    for _ in range(50):
        i = rng.randrange(15)
        if code[i] != code[i + 1]:
            return code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    return code[::-1]


def c_swap_any(rng, code):
    for _ in range(50):
        i, j = sorted(rng.sample(range(16), 2))
        if code[i] != code[j]:
            return code[:i] + code[j] + code[i + 1 : j] + code[i] + code[j + 1 :]
    return code[::-1]


def c_substitute(rng, code):
    i = rng.randrange(16)
    return set_char(code, i, rng.choice([c for c in ALNUM if c != code[i]]))


def c_bad_month(rng, code):
    return with_cin(set_char(code, 8, rng.choice(BAD_MONTH_LETTERS)))


def c_month_digit(rng, code):
    return with_cin(set_char(code, 8, rng.choice(string.digits)))


def c_bad_day(rng, code):
    day = rng.choice([0, 32, 33, 35, 39, 40, 72, 75, 80, 89, 99])
    return with_cin(code[:9] + f"{day:02d}" + code[11:])


def c_day_not_in_month(rng, code):
    """A day that exists in no year for that month (31 Apr, 30 Feb, ...)."""
    month, day = rng.choice([("D", 31), ("H", 31), ("P", 31), ("S", 31), ("B", 30), ("B", 31)])
    day += rng.choice([0, 40])
    return with_cin(code[:8] + month + f"{day:02d}" + code[11:])


def c_feb29_not_leap(rng, code):
    year = rng.choice([y for y in range(100) if y % 4 != 0])
    day = 29 + rng.choice([0, 40])
    return with_cin(f"{code[:6]}{year:02d}B{day:02d}{code[11:]}")


def c_omocode_day_out_of_range(rng, code):
    """Day 00, 40 or 72 written with omocodic letters (e.g. 'LL', 'QL', 'TN')."""
    day = rng.choice(["LL", "QL", "TN", "0L", "L0", "4L", "PN", "VV", "UL"])
    return with_cin(code[:9] + day + code[11:])


def c_illegal_letter_in_digit_position(rng, code):
    i = rng.choice(OMOCODE_POSITIONS)
    return with_cin(set_char(code, i, rng.choice(NON_OMOCODE_LETTERS)))


def c_digit_in_letter_position(rng, code):
    i = rng.choice([0, 1, 2, 3, 4, 5, 11])
    return with_cin(set_char(code, i, rng.choice(string.digits)))


def c_truncate(rng, code):
    return code[: rng.randrange(16)]


def c_extend(rng, code):
    return code + "".join(rng.choice(ALNUM) for _ in range(rng.randint(1, 4)))


def c_drop_char(rng, code):
    i = rng.randrange(16)
    return code[:i] + code[i + 1 :]


def c_odd_char(rng, code):
    i = rng.randrange(16)
    return set_char(code, i, rng.choice(ODD_CHARS))


def c_non_ascii(rng, code):
    i = rng.randrange(16)
    return set_char(code, i, rng.choice(NON_ASCII))


def c_inner_space(rng, code):
    i = rng.randrange(1, 16)
    return code[:i] + rng.choice([" ", "-", "\t"]) + code[i:]


def c_garbage(rng, _code):
    length = rng.choice([0, 1, 5, 15, 16, 17, 30])
    alphabet = ALNUM + ODD_CHARS + " " + "".join(NON_ASCII)
    return "".join(rng.choice(alphabet) for _ in range(length))


CORRUPTIONS = [
    c_check_char,
    c_check_char_digit,
    c_swap_adjacent,
    c_swap_any,
    c_substitute,
    c_bad_month,
    c_month_digit,
    c_bad_day,
    c_day_not_in_month,
    c_feb29_not_leap,
    c_omocode_day_out_of_range,
    c_illegal_letter_in_digit_position,
    c_digit_in_letter_position,
    c_truncate,
    c_extend,
    c_drop_char,
    c_odd_char,
    c_non_ascii,
    c_inner_space,
    c_garbage,
]


def registry_only_rejection(candidate: str, error: str) -> bool:
    """True if the oracle rejects `candidate` only because its cadastral code is
    unknown to its registry (checksum right, every position well formed)."""
    if "wrong birthplace code" not in error:
        return False
    code = candidate.strip().upper()
    if len(code) != 16 or not all(c in ALNUM for c in code):
        return False
    birthplace_tail_ok = all(c in string.digits + OMOCODE_LETTERS for c in code[12:15])
    return birthplace_tail_ok and cin(code[:15]) == code[15]


# --------------------------------------------------------------------------


def main() -> int:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    rng = random.Random(SEED)
    names = get_names_data()
    municipalities = get_municipalities_data()
    countries = get_countries_data()

    stats: collections.Counter[str] = collections.Counter()
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    canonical_valid: list[str] = []

    def add_valid(code: str, kind: str) -> None:
        if code in seen:
            return
        try:
            data = codicefiscale.decode(code)
        except ValueError as error:  # should not happen: the oracle made it
            stats[f"oracle rejected its own {kind} code: {error}"] += 1
            return
        assert codicefiscale.is_valid(code)
        seen.add(code)
        entries.append(
            {
                "code": code,
                "valid": True,
                "kind": kind,
                "birth_date": data["birthdate"].date().isoformat(),
                "sex": data["gender"],
                # asked on the normalised code: the oracle's is_omocode()
                # compares the raw input against upper-case variants
                "omocode": codicefiscale.is_omocode(data["code"]),
            }
        )
        stats[f"valid {kind}"] += 1
        if kind in ("plain", "edge-date", "omocode"):
            canonical_valid.append(code)

    # 1. valid codes: random people, then calendar edge dates
    dates = [(random_date(rng), "plain") for _ in range(N_PEOPLE)]
    dates += [(day, "edge-date") for day in edge_dates()]
    for birth, kind in dates:
        sex = rng.choice("MF")
        pool = countries if rng.random() < 0.2 else municipalities
        place = places_valid_on(pool, birth, rng)
        if place is None:
            stats["no birthplace found"] += 1
            continue
        try:
            code = codicefiscale.encode(
                lastname=random_surname(rng),
                firstname=random_firstname(rng, sex, names),
                gender=sex,
                birthdate=birth.isoformat(),
                birthplace=place["code"],
            )
        except ValueError as error:
            stats[f"encode failed: {str(error)[:60]}"] += 1
            continue
        data = codicefiscale.decode(code)
        if data["birthdate"].date() != birth:
            stats["oracle decodes another birth date than encoded"] += 1
        add_valid(code, kind)

        # omocodic variants: the library's own list, index 0 is the base code
        if rng.random() < 0.45:
            variants = data["omocodes"][1:]
            for variant in rng.sample(variants, rng.choice([1, 1, 2])):
                add_valid(variant, "omocode")

    for person in HIGH_CHECKSUM_PEOPLE:
        code = codicefiscale.encode(*person)
        add_valid(code, "high-checksum")
        add_valid(codicefiscale.decode(code)["omocodes"][-1], "high-checksum")

    # every single omocodic position, and all seven at once, on a few codes
    for base in rng.sample(canonical_valid, 5):
        variants = codicefiscale.decode(base)["omocodes"]
        add_valid(variants[-1], "omocode")
        for position in OMOCODE_POSITIONS:
            root = variants[0]
            letter = OMOCODE_LETTERS[int(root[position])]
            add_valid(with_cin(set_char(root, position, letter)), "omocode")

    # spelling variants the oracle accepts too: lower case, surrounding blanks
    for base in rng.sample(canonical_valid, 40):
        add_valid(base.lower(), "lowercase")
        pad = rng.choice([" ", "  ", "\t", "\n", " \r\n"])
        add_valid(pad + base + rng.choice(["", " ", "\n"]), "whitespace")

    # 2. corrupted codes
    n_invalid = 0
    attempts = 0
    while n_invalid < N_CORRUPT and attempts < N_CORRUPT * 10:
        attempts += 1
        base = rng.choice(canonical_valid)
        corruption = rng.choice(CORRUPTIONS)
        candidate = corruption(rng, base)
        if rng.random() < 0.1 and corruption is not c_garbage:
            candidate = candidate.lower()
        kind = corruption.__name__.removeprefix("c_").replace("_", "-")
        if candidate in seen:
            continue
        error = oracle_error(candidate)
        if error is None:
            stats[f"dropped, oracle still accepts: {kind}"] += 1
            continue
        if registry_only_rejection(candidate, error):
            stats[f"dropped, registry-only rejection: {kind}"] += 1
            continue
        assert not codicefiscale.is_valid(candidate)
        seen.add(candidate)
        entries.append({"code": candidate, "valid": False, "kind": kind})
        stats[f"invalid {kind}"] += 1
        n_invalid += 1

    n_valid = sum(1 for e in entries if e["valid"])
    n_omocode = sum(1 for e in entries if e["valid"] and e["omocode"])
    header = {
        "oracle": f"python-codicefiscale {codicefiscale.__version__}",
        "generator": "scripts/fiscal-code-oracle/generate.py",
        "seed": SEED,
        "oracle_today": ORACLE_TODAY.date().isoformat(),
        "valid": n_valid,
        "invalid": n_invalid,
        "omocodic": n_omocode,
    }
    lines = ["{"]
    for key, value in header.items():
        lines.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
    lines.append('"codes": [')
    body = [json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in entries]
    lines.append(",\n".join(body))
    lines.append("]}")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n", encoding="utf-8")

    for key in sorted(stats):
        print(f"{stats[key]:6d}  {key}")
    print(f"wrote {output}: {n_valid} valid ({n_omocode} omocodic), {n_invalid} invalid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
