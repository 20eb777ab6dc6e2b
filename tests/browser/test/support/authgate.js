// The real authgate binary on a free port, with a database and outbox of its own.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { AUTHGATE_BIN } from "./env.js";
import { freePort } from "./net.js";

export const PASSWORD = "Analytical7Engine";

export class Authgate {
  /** Starts `authgate serve` with `settings` (AUTHGATE_* variables) added. */
  static async start(settings = {}) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "authgate-pages-"));
    const env = {
      PATH: process.env.PATH,
      AUTHGATE_BIND: `127.0.0.1:${port}`,
      AUTHGATE_DATABASE_URL: `sqlite://${join(dir, "authgate.db")}`,
      AUTHGATE_MAIL_OUTBOX: join(dir, "outbox"),
      AUTHGATE_LOG: process.env.TEST_LOG ? "info" : "warn",
      ...settings,
    };
    const child = spawn(AUTHGATE_BIN, ["serve"], { env, stdio: ["ignore", "inherit", "inherit"] });
    const server = new Authgate(child, `http://127.0.0.1:${port}`, dir);
    await server.waitUntilReady();
    return server;
  }

  constructor(child, url, dir) {
    this.child = child;
    this.url = url;
    this.dir = dir;
    this.exited = new Promise((resolve) => child.once("exit", resolve));
  }

  async waitUntilReady(timeoutMs = 20000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`${this.url}/ready`)).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`authgate did not become ready at ${this.url}`);
  }

  /** A JSON API call; returns `{ status, body }`. */
  async api(method, path, { body, token, headers = {} } = {}) {
    const res = await fetch(`${this.url}/api/auth${path}`, {
      method,
      headers: {
        ...(body ? { "content-type": "application/json" } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async stop() {
    this.child.kill("SIGTERM");
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let counter = 0;
/** A fresh address. */
export function uniqueEmail(tag = "user") {
  counter += 1;
  return `${tag}${counter}.${process.pid}@example.com`;
}
