// Starts the real authgate binary on a free port with a fresh SQLite file, for one test file.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** The binary under test: `AUTHGATE_BIN`, else the workspace's debug build. */
export const binary = process.env.AUTHGATE_BIN ?? join(repo, "target/debug/authgate");

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

/**
 * Runs `authgate serve` with `env` on top of a test baseline, and waits until `/ready`.
 * Returns its `url`, its mail `outbox`, `metrics()` and `stop()`.
 */
export async function startAuthgate(env = {}) {
  const dir = mkdtempSync(join(tmpdir(), "authgate-js-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const outbox = join(dir, "outbox");
  let log = "";
  const child = spawn(binary, ["serve"], {
    env: {
      PATH: process.env.PATH,
      AUTHGATE_BIND: `127.0.0.1:${port}`,
      AUTHGATE_DATABASE_URL: `sqlite://${join(dir, "authgate.db")}`,
      AUTHGATE_MAIL_OUTBOX: outbox,
      AUTHGATE_LOG: "warn",
      AUTHGATE_LOG_FORMAT: "json",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const exited = new Promise((ok) => child.once("exit", ok));

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`authgate exited at start:\n${log}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`authgate not ready in 30 s:\n${log}`);
    }
    const ready = await fetch(url + "/ready").then((r) => r.ok, () => false);
    if (ready) break;
    await sleep(50);
  }

  return {
    url,
    outbox,
    log: () => log,
    /** The Prometheus text of `/metrics`. */
    metrics: () => fetch(url + "/metrics").then((r) => r.text()),
    /** Sum of the samples of counter `name` whose labels include every pair of `labels`. */
    async count(name, labels = {}) {
      return sumCounter(await this.metrics(), name, labels);
    },
    /** The link token of the newest mail to `to` with `marker`, once `count` such mails exist. */
    mailToken: (to, marker, count = 1) => waitForMailToken(outbox, to, marker, count),
    async stop() {
      child.kill("SIGTERM");
      const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Adds up the samples of a Prometheus counter that carry all of `labels`. */
export function sumCounter(text, name, labels) {
  let total = 0;
  for (const line of text.split("\n")) {
    const m = line.match(/^([a-z_]+)(\{[^}]*\})? ([0-9.e+]+)$/);
    if (!m || m[1] !== name) continue;
    const has = Object.entries(labels).every(([k, v]) => (m[2] ?? "").includes(`${k}="${v}"`));
    if (has) total += Number(m[3]);
  }
  return total;
}

/** Waits (up to 10 s) for `count` mails in the outbox; returns the newest one's link token. */
async function waitForMailToken(outbox, to, marker, count) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    let files = [];
    try {
      files = readdirSync(outbox).filter((f) => f.endsWith(".txt")).sort().reverse();
    } catch {}
    const tokens = [];
    for (const f of files) {
      let eml, text;
      try {
        eml = readFileSync(join(outbox, f.replace(/\.txt$/, ".eml")), "utf8");
        text = readFileSync(join(outbox, f), "utf8");
      } catch {
        continue; // one of the pair is still being written
      }
      if (!eml.includes(to) || !text.includes(marker)) continue;
      const token = text.match(/(?:verify-email\/|token=)([A-Za-z0-9_-]{20,})/);
      if (token) tokens.push(token[1]);
    }
    if (tokens.length >= count) return tokens[0];
    await sleep(50);
  }
  throw new Error(`no mail to ${to} with ${marker} in ${outbox}`);
}

/** Resolves after `ms`. */
export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Polls `check` every 50 ms until it returns a truthy value, for at most `ms`. */
export async function eventually(check, ms = 15_000, what = "condition") {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

let serial = 0;
/** A fresh account's registration body (unique address, a password the policy accepts). */
export function newAccount(name = "user") {
  serial += 1;
  return {
    email: `${name}-${process.pid}-${serial}-${Date.now()}@example.com`,
    password: "Correct7Horse!battery",
    name: "Test User",
  };
}
