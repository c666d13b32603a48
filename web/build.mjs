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
// API documentation served by each service itself (/docs, /redoc), so it works without internet access.
mkdirSync(`${out}api-docs`, { recursive: true });
for (const f of ["swagger-ui-bundle.js", "swagger-ui.css"]) cpSync(pkg(`swagger-ui-dist/${f}`), `${out}api-docs/${f}`);
cpSync(pkg("redoc/bundles/redoc.standalone.js"), `${out}api-docs/redoc.standalone.js`);
cpSync(new URL("./src/api-docs.js", import.meta.url).pathname, `${out}api-docs/api-docs.js`);
console.log(`built ${out}: app.css ${css.css.length} bytes`);
