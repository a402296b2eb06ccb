// Builds the portal into web/dist: our pages and modules from web/src, and
// Bootstrap Italia's compiled files (CSS, bundle, fonts, icon sprite) from
// npm, unchanged. No bundler: the pages load native ES modules.
import { cpSync, rmSync, mkdirSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FOOTER_LINKS } from "./src/_assets/js/ui.js";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const bi = join(here, "node_modules", "bootstrap-italia", "dist");
if (!existsSync(bi)) {
  console.error("bootstrap-italia is not installed: run `npm ci` in web/ (make web does).");
  process.exit(1);
}
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
const pages = join(here, "src", "pages");
cpSync(join(here, "src"), dist, { recursive: true, filter: (p) => !p.startsWith(pages) });
// The static pages (home, privacy, accessibility, legal notes) share one
// frame: each file of src/pages is `<!-- title: … -->` and its content.
const leadingComment = /^<!--\s*(.*?)\s*-->\n/;
const footerLinks = FOOTER_LINKS.map(
  ([href, element, text]) => `        <li class="list-inline-item"><a href="${href}" data-element="${element}">${text}</a></li>`,
).join("\n");
const layout = readFileSync(join(pages, "_layout.html"), "utf8").replace(leadingComment, "").replace("{{footer_links}}", footerLinks);
for (const name of readdirSync(pages).filter((f) => f.endsWith(".html") && !f.startsWith("_"))) {
  const text = readFileSync(join(pages, name), "utf8");
  const title = (text.match(leadingComment) || [])[1]?.replace(/^title:\s*/, "");
  if (!title) throw new Error(`src/pages/${name} must start with <!-- title: … -->`);
  writeFileSync(join(dist, name), layout.replace("{{title}}", title).replace("{{content}}", text.replace(leadingComment, "")));
}
for (const part of ["css", "js", "fonts", "svg"]) {
  cpSync(join(bi, part), join(dist, "_assets", "bi", part), {
    recursive: true,
    // Source maps and legacy font formats are not needed in the browser.
    filter: (p) => !p.endsWith(".map") && !/\.(eot|ttf|svg)$/.test(p.includes("/fonts/") ? p : ""),
  });
}
console.log(`portal built in ${dist}`);
