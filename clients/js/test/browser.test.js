// Browser tests: Debian's chromium (playwright-core) runs the built client in a page served by
// the app on one 127.0.0.1 port, calling the real authgate binary on another (cross-origin,
// CORS, the HttpOnly refresh cookie), with 1-second access tokens.
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import { eventually, newAccount, startAuthgate } from "./support/authgate.js";
import { startApp } from "./support/app.js";
import { launch } from "./support/browser.js";

let server;
let app;
let browser;
before(async () => {
  app = await startApp();
  server = await startAuthgate({
    AUTHGATE_ALLOWED_ORIGINS: app.url,
    AUTHGATE_REFRESH_TOKEN_DELIVERY: "cookie",
    AUTHGATE_ACCESS_TOKEN_TTL: "1s",
  });
  app.authgate = server.url;
});
afterEach(async () => {
  await browser?.close();
  browser = undefined;
});
after(async () => {
  await app?.stop();
  await server?.stop();
});

const page = (origin = app.url, query = "") =>
  browser.open(`${origin}/?authgate=${encodeURIComponent(server.url)}${query}`);
const call = (tab, name, ...args) => tab.evaluate(([n, a]) => window.t.call(n, ...a), [name, args]);
const callApp = (tab, path) => tab.evaluate((p) => window.t.app(p), path);
const events = (tab) => tab.evaluate(() => window.t.events);
const tokenOf = (tab) => tab.evaluate(() => window.t.client.accessToken);

const refreshes = () => server.count("authgate_auth_events_total", { event: "refresh" });
const refreshRequests = () =>
  server.count("authgate_http_requests_total", { route: "/api/auth/refresh" });
/** The refresh cookie in the browser's jar (its Path is /api/auth), or undefined. */
const refreshCookie = async () =>
  (await browser.context.cookies(server.url + "/api/auth/refresh")).find((c) => c.name === "refreshToken");
const reuses = () => server.count("authgate_auth_events_total", { event: "refresh_reuse_detected" });

/** Waits until authgate itself refuses `token` (1 s life + 5 s leeway). */
function expired(token) {
  return eventually(
    async () => {
      const res = await fetch(server.url + "/api/auth/me", { headers: { Authorization: `Bearer ${token}` } });
      return res.status === 401;
    },
    20_000,
    "the access token to expire",
  );
}

test("a page on another origin registers, reads me and logs out", async () => {
  browser = await launch();
  const tab = await page();
  const account = newAccount("browser");
  const registered = await call(tab, "register", account);
  assert.equal(registered.ok.user.email, account.email);
  assert.equal("refreshToken" in registered.ok, false);
  const me = await call(tab, "me");
  assert.equal(me.ok.email, account.email);

  const token = await tokenOf(tab);
  assert.ok(await refreshCookie(), "register set the refresh cookie");
  assert.equal((await call(tab, "logout")).ok, null);
  assert.deepEqual(await events(tab), ["SIGNED_IN", "SIGNED_OUT"]);
  const res = await fetch(server.url + "/api/auth/me", { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 401, "the session ended on the server");
  assert.equal(await refreshCookie(), undefined, "logout cleared the cookie");
});

test("the refresh cookie is HttpOnly: document.cookie on the same host and path cannot see it", async () => {
  browser = await launch();
  const tab = await page();
  await call(tab, "register", newAccount("cookie"));
  const cookie = await refreshCookie();
  assert.ok(cookie, "the refresh cookie was set");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.path, "/api/auth");
  // Cookies are not separated by port: a page of the app under /api/auth/ sees every cookie
  // of 127.0.0.1 on that path that is not HttpOnly, like this control cookie.
  await browser.context.addCookies([{ name: "control", value: "1", domain: "127.0.0.1", path: "/api/auth" }]);
  const probe = await browser.open(`${app.url}/api/auth/probe.html?authgate=${encodeURIComponent(server.url)}`);
  const visible = await probe.evaluate(() => document.cookie);
  assert.match(visible, /control=1/);
  assert.doesNotMatch(visible, /refreshToken/);
});

test("an expired access token: the next call gets 401, refreshes through the cookie and succeeds", async () => {
  browser = await launch();
  const tab = await page();
  await call(tab, "register", newAccount("expiry"));
  const old = await tokenOf(tab);
  assert.equal(await callApp(tab), 200);
  await expired(old);
  const before = await refreshes();
  app.hits.length = 0;

  assert.equal(await callApp(tab), 200);
  assert.deepEqual(app.hits, [401, 200]);
  assert.equal((await refreshes()) - before, 1);
  assert.notEqual(await tokenOf(tab), old);
  assert.deepEqual(await events(tab), ["SIGNED_IN", "TOKEN_REFRESHED"]);
});

test("three tabs with an expired token call the app at the same instant: one rotation, all succeed", { timeout: 60_000 }, async () => {
  browser = await launch();
  const first = await page();
  await call(first, "register", newAccount("tabs"));
  // The other tabs start like an app does on load: restore the session from the cookie.
  const tabs = [first];
  for (let i = 0; i < 2; i++) {
    const tab = await page();
    assert.ok((await call(tab, "refresh")).ok.accessToken);
    tabs.push(tab);
  }
  const shared = await tokenOf(tabs[2]);
  await eventually(async () => (await Promise.all(tabs.map(tokenOf))).every((t) => t === shared), 5000, "one token in every tab");
  await expired(shared);

  const [rotationsBefore, requestsBefore, reusesBefore] = [await refreshes(), await refreshRequests(), await reuses()];
  app.hits.length = 0;
  const at = Date.now() + 500;
  const statuses = await Promise.all(
    tabs.map((tab) =>
      tab.evaluate((when) => new Promise((ok) => setTimeout(ok, when - Date.now())).then(() => window.t.app()), at),
    ),
  );

  assert.deepEqual(statuses, [200, 200, 200]);
  assert.deepEqual(app.hits.slice(0, 3), [401, 401, 401], "all three calls went out with the expired token");
  assert.equal((await refreshRequests()) - requestsBefore, 1, "one POST /refresh reached the server");
  assert.equal((await refreshes()) - rotationsBefore, 1, "one rotation");
  assert.equal((await reuses()) - reusesBefore, 0);
  const tokens = await Promise.all(tabs.map(tokenOf));
  assert.ok(tokens.every((t) => t === tokens[0] && t !== shared), "every tab holds the new token");
  const sessions = await call(tabs[1], "sessions");
  assert.equal(sessions.ok.length, 1);
  assert.equal(sessions.ok[0].current, true, "the session is still alive");
});

test("logout in one tab signs the other tabs out", async () => {
  browser = await launch();
  const tabs = [await page()];
  await call(tabs[0], "register", newAccount("signout"));
  for (let i = 0; i < 2; i++) {
    const tab = await page();
    await call(tab, "refresh");
    tabs.push(tab);
  }
  await call(tabs[0], "logout");
  for (const tab of tabs.slice(1)) {
    await eventually(async () => (await events(tab)).at(-1) === "SIGNED_OUT", 5000, "SIGNED_OUT in another tab");
    assert.equal(await tokenOf(tab), null);
    assert.equal(await callApp(tab), 401, "no token, and the cookie is gone");
  }
});

test("a page from an origin not in AUTHGATE_ALLOWED_ORIGINS is blocked by the browser", async () => {
  browser = await launch();
  const foreign = await app.listen();
  const tab = await page(foreign);
  const blocked = [];
  tab.on("console", (m) => m.text().includes("CORS policy") && blocked.push(m.text()));
  const account = newAccount("foreign");
  const result = await call(tab, "register", account);
  assert.equal(result.error?.status, 0);
  assert.equal(result.error?.code, "network_error");
  await eventually(() => blocked.length > 0, 5000, "Chromium's CORS message");
  // The preflight failed, so the registration itself never reached authgate.
  const res = await fetch(server.url + "/api/auth/register", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(account),
  });
  assert.equal(res.status, 201);
});

test("the README's browser example works as written", async () => {
  browser = await launch();
  const tab = await page();
  const account = newAccount("readme");
  await call(tab, "register", account);
  await call(tab, "logout");
  const user = await tab.evaluate(async ([email, password]) => {
    window.example = await import("/readme-example.js");
    return window.example.signIn(email, password);
  }, [account.email, account.password]);
  assert.equal(user.email, account.email);
  const orders = await tab.evaluate(() => window.example.getOrders());
  assert.equal(orders.user.email, account.email, "the app's API accepted the bearer token");
  const wrong = await tab.evaluate(() => window.example.signIn("nobody@example.com", "Wrong7password").catch((e) => e.code));
  assert.equal(wrong, "invalid_credentials");
  await Promise.all([tab.waitForURL(/\/login$/), tab.evaluate(() => window.example.signOut())]);
});

test("a tab that holds the refresh lock forever cannot freeze another tab's refresh", { timeout: 30_000 }, async () => {
  browser = await launch();
  const tab = await page(app.url, "&timeout=1000");
  await call(tab, "register", newAccount("frozen"));
  const old = await tokenOf(tab);
  const holder = await page();
  const lock = `authgate ${server.url}/api/auth`;
  await holder.evaluate((name) => {
    navigator.locks.request(name, () => new Promise(() => {})); // never released
  }, lock);
  const held = await holder.evaluate(async (name) => (await navigator.locks.query()).held.some((l) => l.name === name), lock);
  assert.ok(held, "the other tab holds the lock");
  const reusesBefore = await reuses();

  const refreshed = await call(tab, "refresh");
  assert.ok(refreshed.ok.accessToken, JSON.stringify(refreshed));
  assert.notEqual(refreshed.ok.accessToken, old);
  assert.equal((await reuses()) - reusesBefore, 0);
  assert.equal(await callApp(tab), 200);
});
