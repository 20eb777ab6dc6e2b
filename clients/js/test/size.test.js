// The package stays small: the built ESM, bundled and minified with esbuild, gzipped.
import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const LIMIT = 5 * 1024;

test("the client is under 5 kB minified and gzipped", async () => {
  const out = await build({
    entryPoints: [new URL("../dist/index.js", import.meta.url).pathname],
    bundle: true,
    minify: true,
    format: "esm",
    write: false,
  });
  const minified = out.outputFiles[0].contents;
  const gzipped = gzipSync(minified, { level: 9 }).length;
  console.log(`@authgate/client: ${minified.length} B minified, ${gzipped} B minified+gzipped (limit ${LIMIT} B)`);
  assert.ok(gzipped < LIMIT, `${gzipped} B is over the ${LIMIT} B budget`);
});
