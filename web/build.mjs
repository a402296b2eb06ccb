// Builds the portal into web/dist: our pages and modules from web/src, and
// Bootstrap Italia's compiled files (CSS, bundle, fonts, icon sprite) from
// npm, unchanged. No bundler: the pages load native ES modules.
import { cpSync, rmSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const bi = join(here, "node_modules", "bootstrap-italia", "dist");
if (!existsSync(bi)) {
  console.error("bootstrap-italia is not installed: run `npm ci` in web/ (make web does).");
  process.exit(1);
}
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
cpSync(join(here, "src"), dist, { recursive: true });
for (const part of ["css", "js", "fonts", "svg"]) {
  cpSync(join(bi, part), join(dist, "_assets", "bi", part), {
    recursive: true,
    // Source maps and legacy font formats are not needed in the browser.
    filter: (p) => !p.endsWith(".map") && !/\.(eot|ttf|svg)$/.test(p.includes("/fonts/") ? p : ""),
  });
}
console.log(`portal built in ${dist}`);
