// Builds web/dist from the installed npm packages: Sass -> CSS, and copies the JS and static assets.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as sass from "sass";

const out = new URL("./dist/", import.meta.url).pathname;
const pkg = (p) => new URL(`./node_modules/${p}`, import.meta.url).pathname;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const css = sass.compile(new URL("./src/app.scss", import.meta.url).pathname, {
  importers: [new sass.NodePackageImporter()],
  loadPaths: [new URL(".", import.meta.url).pathname],  // MOJ Frontend forwards "node_modules/govuk-frontend/..."
  style: "compressed",
  quietDeps: true,
  logger: sass.Logger.silent,
  silenceDeprecations: ["import"],
});
writeFileSync(`${out}app.css`, css.css);
cpSync(pkg("govuk-frontend/dist/govuk/assets"), `${out}assets`, { recursive: true });
cpSync(pkg("@ministryofjustice/frontend/moj/assets"), `${out}assets`, { recursive: true });
cpSync(pkg("govuk-frontend/dist/govuk/govuk-frontend.min.js"), `${out}govuk-frontend.min.js`);
cpSync(pkg("@ministryofjustice/frontend/moj/moj-frontend.min.js"), `${out}moj-frontend.min.js`);
cpSync(pkg("axe-core/axe.min.js"), `${out}axe.min.js`);
cpSync(new URL("./src/init.mjs", import.meta.url).pathname, `${out}init.mjs`);
console.log(`built ${out}: app.css ${css.css.length} bytes`);
