// Bundles src/index.js into dist/storebot.js (one minified IIFE) and reports its gzipped size.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

// The merchant dashboard (dashboard/, with Chart.js) gets its own bundle, served by Flask at /dashboard/app.js.
await build({
  entryPoints: ["dashboard/main.js"],
  outfile: "dist/dashboard.js",
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "none",
  logLevel: "warning",
});
console.log(`dist/dashboard.js: ${readFileSync("dist/dashboard.js").length} bytes`);

const BUDGET = 15 * 1024;
const outfile = "dist/storebot.js";

await build({
  entryPoints: ["src/index.js"],
  outfile,
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  legalComments: "none",
  logLevel: "warning",
});

const bytes = readFileSync(outfile);
const gzip = gzipSync(bytes, { level: 9 }).length;
console.log(`${outfile}: ${bytes.length} bytes, ${gzip} gzipped (budget ${BUDGET})`);
if (gzip > BUDGET) {
  console.error(`The widget is over its ${BUDGET}-byte gzip budget.`);
  process.exitCode = 1;
}
console.log(`widget_gzip_bytes: ${gzip}`);
