// Debian's Chromium through playwright-core, with a fresh profile, and the checks every page
// gets: no console error, no CSP violation, no failed request, axe-core finds nothing
// serious or critical.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

import { CHROMIUM, SCREENSHOTS } from "./env.js";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export class Browser {
  static async launch() {
    const profile = mkdtempSync(join(tmpdir(), "authgate-chromium-"));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 900, height: 900 },
    });
    return new Browser(context, profile);
  }

  constructor(context, profile) {
    this.context = context;
    this.profile = profile;
    /** Everything that went wrong on any page: console errors, CSP violations, failed requests. */
    this.problems = [];
  }

  /** A new tab whose problems are recorded. */
  async newPage() {
    const page = await this.context.newPage();
    page.on("console", (msg) => {
      if (msg.type() === "error" || /Content Security Policy/i.test(msg.text())) {
        this.problems.push(`console ${msg.type()} on ${page.url()}: ${msg.text()}`);
      }
    });
    page.on("pageerror", (err) => this.problems.push(`page error on ${page.url()}: ${err.message}`));
    page.on("requestfailed", (req) =>
      this.problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`),
    );
    return page;
  }

  assertNoProblems() {
    assert.deepEqual(this.problems, [], "console errors, CSP violations or failed requests");
  }

  async close() {
    await this.context.close();
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/**
 * Runs axe-core on the page (evaluated through the DevTools protocol, which the page's CSP
 * does not govern, so the page itself still runs no script) and fails on any serious or
 * critical violation.
 */
export async function assertAccessible(page, label) {
  await page.evaluate(AXE_SOURCE);
  for (const colorScheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme });
    await checkWithAxe(page, `${label}, ${colorScheme}`);
  }
  await page.emulateMedia({ colorScheme: "light" });
}

async function checkWithAxe(page, label) {
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n) => n.target.join(" ")),
    }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `axe-core on ${label} (${page.url()})`);
  return result;
}

/** Screenshots of the page in light and dark mode: `<name>-light.png`, `<name>-dark.png`. */
export async function screenshots(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const colorScheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${colorScheme}.png`), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: "light" });
}
