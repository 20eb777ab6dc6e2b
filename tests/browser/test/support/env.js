// Where things are, and what to do when a tool the tests need is missing: print
// "NOT RUN: ..." and skip, or fail under AUTHGATE_TEST_REQUIRE_ALL (as CI runs).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const AUTHGATE_BIN = process.env.AUTHGATE_BIN ?? join(REPO, "target/debug/authgate");
export const CHROMIUM = process.env.AUTHGATE_TEST_CHROMIUM ?? "/usr/bin/chromium";
export const PYTHON = process.env.AUTHGATE_TEST_PYTHON ?? join(REPO, "target/test-venv/bin/python");
export const SMTP_SCRIPT = join(REPO, "crates/mail/src/testing/smtp_server.py");
/** Screenshots go here (git-ignored). */
export const SCREENSHOTS = join(REPO, "tests/browser/screenshots");

/** Why the browser tests cannot run here, or null when everything is present. */
export function missingTool() {
  const needs = [
    [AUTHGATE_BIN, "the authgate binary (build it with `cargo build -p authgate` or set AUTHGATE_BIN)"],
    [CHROMIUM, "Debian's chromium (apt-get install chromium)"],
    [PYTHON, "aiosmtpd in target/test-venv (see .ci/run)"],
  ];
  const missing = needs.find(([path]) => !existsSync(path));
  if (!missing) return null;
  const reason = `NOT RUN: browser tests (${missing[1]} not found at ${missing[0]})`;
  if (process.env.AUTHGATE_TEST_REQUIRE_ALL) throw new Error(reason);
  console.log(reason);
  return reason;
}
