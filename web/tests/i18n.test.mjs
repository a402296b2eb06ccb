// The catalogues of the portal's languages, without a browser: every key
// the portal's modules use (t("…"), bilingual("…")) and the static pages
// carry (data-i18n, data-i18n-binding, their titles) is in each of en, ar,
// ro, uk and sq, with a translation that is not empty and has the same
// {placeholders}; no catalogue keeps a key nobody uses; and no call to t()
// hides its key in a variable, where this scan could not find it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { extractKeys, keysOfModule, keysOfPage, placeholders, translatedLanguages, readCatalogue } from "../scripts/i18n-keys.mjs";

const { keys, problems } = extractKeys();
const languages = await translatedLanguages();

test("every t() and bilingual() call has one string literal as its key", () => {
  assert.deepEqual(problems, []);
  assert.ok(keys.size > 300, `only ${keys.size} keys found: is the scan broken?`);
});

test("the scan reads keys and refuses what it cannot read", () => {
  const found = keysOfModule(
    [
      'const a = t("Salva bozza");',
      't("Passo {step} di {total}", { step, total });',
      "// t(variable) in a comment is fine",
      'const b = "t(notACall)";',
      "const re = /t\\(x\\)/;",
      "x.t(variable);",
      "function t(key, params) {}",
      't(label);',
      't(`Bozza ${x}`);',
      't("Bozza" + suffix);',
      "bilingual('single');",
      'const s = `${n} ${t("Dentro un template")} ${ok ? t(other) : ""}`;',
    ].join("\n"),
  );
  assert.deepEqual(found.keys.map((k) => k.key), ["Salva bozza", "Passo {step} di {total}", "Dentro un template"]);
  assert.equal(found.problems.length, 5, found.problems.join("\n"));
  assert.match(found.problems.at(-1), /^module:12: t\(\) needs one string literal/);
  const page = keysOfPage('<!-- title: Titolo -->\n<p data-i18n>Uno  due\n tre</p><small data-i18n>Per esempio <span data-i18n-arg="x">demo</span>.</small><p data-i18n-binding>Legge</p><p>Non marcato</p><title data-i18n-title="x">y</title>');
  assert.deepEqual(page.keys.map((k) => k.key), ["Titolo", "Uno due tre", "Per esempio {x}.", "Legge"]);
  assert.equal(keysOfPage("<p data-i18n>Con <b>grassetto</b></p>").problems.length, 1);
});

for (const code of languages) {
  test(`the ${code} catalogue has every key, translated, with the same placeholders, and nothing unused`, () => {
    const catalogue = readCatalogue(code);
    assert.equal(typeof catalogue, "object");
    const missing = [...keys.keys()].filter((k) => !(k in catalogue));
    const empty = [...keys.keys()].filter((k) => k in catalogue && (typeof catalogue[k] !== "string" || catalogue[k].trim() === ""));
    const wrongPlaceholders = Object.entries(catalogue)
      .filter(([k, v]) => typeof v === "string" && v.trim() !== "" && placeholders(k) !== placeholders(v))
      .map(([k, v]) => `${k} → ${v}`);
    const unused = Object.keys(catalogue).filter((k) => !keys.has(k));
    const hint = `(node scripts/i18n-missing.mjs ${code} lists them)`;
    assert.deepEqual(wrongPlaceholders, [], `${code}: translations whose {placeholders} differ from the key's`);
    assert.deepEqual(unused, [], `${code}: keys no longer used ${hint}`);
    assert.deepEqual(empty, [], `${code}: empty translations ${hint}`);
    assert.deepEqual(missing, [], `${code}: ${missing.length} keys missing ${hint}`);
  });
}
