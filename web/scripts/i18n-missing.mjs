#!/usr/bin/env node
// For translators: per language, the keys its catalogue lacks (or leaves
// empty), as a JSON object key → "" ready to fill and merge into
// src/_assets/i18n/{code}.json; then the keys it has that the portal no
// longer uses. Usage: node scripts/i18n-missing.mjs [code…] (default: all).
// Exit status 1 when a t() call has no literal key (see tests/i18n.test.mjs).
import { extractKeys, translatedLanguages, readCatalogue } from "./i18n-keys.mjs";

const { keys, problems } = extractKeys();
const languages = await translatedLanguages();
const wanted = process.argv.slice(2);
for (const code of wanted) if (!languages.includes(code)) throw new Error(`unknown language ${code}: one of ${languages.join(", ")}`);
const report = {};
for (const code of wanted.length ? wanted : languages) {
  const catalogue = readCatalogue(code);
  const missing = {};
  for (const key of [...keys.keys()].sort((a, b) => a.localeCompare(b, "it"))) {
    if (typeof catalogue[key] !== "string" || catalogue[key].trim() === "") missing[key] = "";
  }
  const unused = Object.keys(catalogue).filter((k) => !keys.has(k));
  report[code] = { missing, unused };
}
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
const counts = Object.entries(report).map(([code, r]) => `${code}: ${Object.keys(r.missing).length} missing, ${r.unused.length} unused`);
process.stderr.write(`${keys.size} keys. ${counts.join("; ")}\n`);
if (problems.length) {
  process.stderr.write(`${problems.join("\n")}\n`);
  process.exit(1);
}
