// A tiny app on its own 127.0.0.1 port: its API (`GET /api/data`) accepts a request when
// authgate's `GET /api/auth/me` accepts its bearer token, and it serves the built client and
// the browser tests' page. It stands for "your app" in front of authgate.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, "../../dist");
const TYPES = { ".js": "text/javascript", ".html": "text/html", ".map": "application/json" };

/**
 * Starts the app. Set `app.authgate` to authgate's URL before calling its API; `hits` lists
 * the statuses authgate gave the API's checks, in order.
 */
export async function startApp(authgate = null) {
  const hits = [];
  const app = { authgate, hits };
  const handler = async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    if (path === "/readme-example.js") {
      res.writeHead(200, { "Content-Type": "text/javascript" }).end(await readmeExample(app.authgate));
      return;
    }
    if (path === "/api/data" || path === "/api/orders") {
      const me = await fetch(app.authgate + "/api/auth/me", {
        headers: { Authorization: req.headers.authorization ?? "" },
      });
      hits.push(me.status);
      res.writeHead(me.status === 200 ? 200 : 401, { "Content-Type": "application/json" });
      res.end(me.status === 200 ? await me.text() : '{"code":"unauthenticated"}');
      return;
    }
    if (path === "/api/deny") {
      // An API that refuses every token, to show the client retries only once.
      hits.push("deny");
      res.writeHead(401, { "Content-Type": "application/json" }).end('{"code":"unauthenticated"}');
      return;
    }
    // The page, and a copy of it under /api/auth/ to read cookies scoped to that path.
    const file = path.startsWith("/dist/")
      ? join(dist, normalize(path.slice("/dist/".length)))
      : join(here, "page.html");
    if (!file.startsWith(dist) && file !== join(here, "page.html")) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "Content-Type": TYPES[file.slice(file.lastIndexOf("."))] ?? "text/plain" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  };
  const servers = [];
  /** Serves the app on one more port (another origin), e.g. one authgate does not allow. */
  async function listen() {
    const server = createServer(handler);
    await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
    servers.push(server);
    return `http://127.0.0.1:${server.address().port}`;
  }
  return Object.assign(app, {
    url: await listen(),
    listen,
    stop: () => Promise.all(servers.map((s) => new Promise((ok) => s.close(ok)))),
  });
}

/**
 * The root README's example with the client ("Using authgate from a browser app"), as
 * written, compiled from TypeScript, with only authgate's URL and the import path replaced.
 */
async function readmeExample(authgate) {
  const readme = await readFile(resolve(here, "../../../../README.md"), "utf8");
  const section = readme.split("## Using authgate from a browser app")[1];
  const code = section.split("```ts\n")[1].split("\n```")[0];
  const js = code
    .replace('"@authgate/client"', '"/dist/index.js"')
    .replace('"https://auth.example.com"', JSON.stringify(authgate));
  return (await transform(js, { loader: "ts", format: "esm" })).code;
}
