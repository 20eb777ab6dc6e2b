/**
 * Runs the real `authgate` binary for tests: a fresh SQLite file in a temp dir, a free
 * loopback port, and helpers that speak its public HTTP API. The binary comes from
 * `AUTHGATE_BIN`, else `<repo>/target/debug/authgate` (built by `cargo build` or
 * `cargo test --workspace`).
 */
import { spawn, execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const REPO = resolve(fileURLToPath(new URL("../../../../", import.meta.url)));
/** The binary under test. */
export const AUTHGATE_BIN = process.env.AUTHGATE_BIN ?? join(REPO, "target", "debug", "authgate");
/** The password every test account gets (meets authgate's default policy). */
export const PASSWORD = "Analytical7Engine";

/** A free TCP port on 127.0.0.1 (the OS picks it; it is released before use). */
export async function freePort() {
  const server = createServer();
  await new Promise((ok, fail) => server.once("error", fail).listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

/** The environment for one authgate process: no inherited `AUTHGATE_*`, then `settings`. */
function environment(dir, port, settings) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AUTHGATE_")));
  return {
    ...env,
    AUTHGATE_BIND: `127.0.0.1:${port}`,
    AUTHGATE_DATABASE_URL: `sqlite://${join(dir, "authgate.db")}`,
    AUTHGATE_MAIL_OUTBOX: join(dir, "mail-outbox"),
    AUTHGATE_RATE_LIMIT_ENABLED: "false",
    AUTHGATE_LOG: "warn",
    ...settings,
  };
}

/**
 * A running authgate. `start()` spawns it and waits for `GET /ready`; `stop()` sends
 * SIGTERM and waits for the exit; `restart()` does both on the same port and database.
 */
export class AuthgateServer {
  /** @param {Record<string, string>} settings extra `AUTHGATE_*` variables */
  static async start(settings = {}) {
    if (!existsSync(AUTHGATE_BIN)) {
      throw new Error(`authgate binary not found at ${AUTHGATE_BIN}: run \`cargo build --workspace --bins\` or set AUTHGATE_BIN`);
    }
    const dir = await mkdtemp(join(tmpdir(), "authgate-express-"));
    const server = new AuthgateServer(dir, await freePort(), settings);
    await server.#spawn();
    return server;
  }

  #child;
  #exited;
  #stderr = "";

  constructor(dir, port, settings) {
    this.dir = dir;
    this.port = port;
    this.settings = settings;
    this.url = `http://127.0.0.1:${port}`;
    this.api = `${this.url}/api/auth`;
  }

  async #spawn() {
    this.#stderr = "";
    const child = spawn(AUTHGATE_BIN, ["serve"], {
      cwd: this.dir,
      env: environment(this.dir, this.port, this.settings),
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr.setEncoding("utf8").on("data", (chunk) => (this.#stderr += chunk));
    this.#exited = new Promise((ok) => child.once("exit", (code, signal) => ok({ code, signal })));
    this.#child = child;
    await this.#waitUntilReady();
  }

  async #waitUntilReady() {
    const deadline = Date.now() + 15_000;
    let running = true;
    this.#exited.then(() => (running = false));
    while (Date.now() < deadline) {
      if (!running) throw new Error(`authgate exited during start-up:\n${this.#stderr}`);
      try {
        const res = await fetch(`${this.url}/ready`);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((ok) => setTimeout(ok, 50));
    }
    throw new Error(`authgate was not ready within 15 s:\n${this.#stderr}`);
  }

  /** Stops the process (SIGTERM: it drains and exits 0) and waits for it. */
  async stop() {
    if (!this.#child) return;
    const child = this.#child;
    this.#child = undefined;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await this.#exited;
    clearTimeout(killer);
  }

  /** Stops and starts again on the same port and database (it then reloads its keys). */
  async restart() {
    await this.stop();
    await this.#spawn();
  }

  /** Stops the process and deletes its temp dir. */
  async close() {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Runs `authgate <args>` against the same database and settings; resolves to stdout. */
  async cli(args, stdin = "") {
    const run = promisify(execFile);
    const child = run(AUTHGATE_BIN, args, { cwd: this.dir, env: environment(this.dir, this.port, this.settings) });
    child.child.stdin.end(stdin);
    const { stdout } = await child;
    return stdout;
  }

  /** `<method> /api/auth/<path>` with an optional JSON body and bearer; resolves to `{status, body}`. */
  async request(method, path, { body, token } = {}) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(`${this.api}/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  }

  /** `POST /api/auth/<path>` with a JSON body; resolves to `{status, body}`. */
  post(path, body, token) {
    return this.request("POST", path, { body: body ?? {}, token });
  }

  /** Registers a fresh account (optionally with a self-assignable `role`); resolves to the 201 body. */
  async register({ role, username } = {}) {
    const email = `user-${crypto.randomUUID()}@example.com`;
    const { status, body } = await this.post("register", { email, password: PASSWORD, name: "Test User", role, username });
    if (status !== 201) throw new Error(`register answered ${status}: ${JSON.stringify(body)}`);
    return { ...body, email };
  }

  /** Logs in; resolves to the 200 body with `accessToken`. */
  async login(email) {
    const { status, body } = await this.post("login", { email, password: PASSWORD });
    if (status !== 200) throw new Error(`login answered ${status}: ${JSON.stringify(body)}`);
    return body;
  }
}
