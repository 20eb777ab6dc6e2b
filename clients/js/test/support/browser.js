// Debian's chromium driven by playwright-core (no browser download), one fresh profile each.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A headless browser context with a fresh user-data dir; `close()` removes it. */
export async function launch() {
  const dir = mkdtempSync(join(tmpdir(), "authgate-chromium-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ARGS,
  });
  return {
    context,
    /** A new tab on `url`, once the test page's script has run. */
    async open(url) {
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForFunction(() => window.ready === true);
      return page;
    },
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
