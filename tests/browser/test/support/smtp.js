// A real SMTP server (aiosmtpd, the script the Rust mail tests use) storing mail in a
// Maildir, and a reader for what it received.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { PYTHON, SMTP_SCRIPT } from "./env.js";
import { freePort, waitForPort } from "./net.js";

export class SmtpServer {
  static async start() {
    const port = await freePort();
    // aiosmtpd's Mailbox creates the Maildir (new/, cur/, tmp/) only where nothing exists yet.
    const root = mkdtempSync(join(tmpdir(), "authgate-smtp-"));
    const maildir = join(root, "maildir");
    // The script exits when its stdin closes, so it cannot outlive this process.
    const child = spawn(PYTHON, [SMTP_SCRIPT, "127.0.0.1", String(port), maildir, "none"], {
      stdio: ["pipe", "inherit", "inherit"],
    });
    await waitForPort(port);
    return new SmtpServer(child, port, maildir, root);
  }

  constructor(child, port, maildir, root) {
    this.child = child;
    this.root = root;
    this.port = port;
    this.maildir = maildir;
    this.seen = new Set();
  }

  get url() {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Waits for the next mail to `to` whose subject is `subject`, and returns it parsed. */
  async next(to, subject, timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const inbox = join(this.maildir, "new");
      for (const file of existsSync(inbox) ? readdirSync(inbox).sort() : []) {
        if (this.seen.has(file)) continue;
        const mail = parseMail(readFileSync(join(this.maildir, "new", file), "utf8"));
        if (mail.to.includes(to.toLowerCase()) && mail.subject === subject) {
          this.seen.add(file);
          return mail;
        }
      }
      await sleep(100);
    }
    throw new Error(`no mail "${subject}" to ${to} within ${timeoutMs} ms`);
  }

  stop() {
    this.child.stdin.end();
    this.child.kill();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The first link in `mail`'s text part that starts with `prefix`. */
export function linkIn(mail, prefix) {
  const found = mail.text.split(/\s+/).find((word) => word.startsWith(prefix));
  if (!found) throw new Error(`no link starting with ${prefix} in:\n${mail.text}`);
  return found;
}

/** Subject, recipient and decoded text part of a MIME message (what lettre sends). */
export function parseMail(raw) {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const headers = unfold(head);
  const body = rest.join("\n\n");
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(headers["content-type"] ?? "")?.[1];
  const parts = boundary ? body.split(`--${boundary}`) : [head + "\n\n" + body];
  let text = "";
  for (const part of parts) {
    const [partHead, ...partBody] = part.replace(/^\r?\n/, "").split(/\r?\n\r?\n/);
    const h = unfold(partHead);
    if (/multipart\//i.test(h["content-type"] ?? "")) {
      text ||= parseMail(part.replace(/^\r?\n/, "")).text;
    } else if (/text\/plain/i.test(h["content-type"] ?? "")) {
      text = decode(partBody.join("\n\n"), h["content-transfer-encoding"] ?? "");
    }
  }
  return { subject: headers.subject ?? "", to: (headers.to ?? "").toLowerCase(), text, raw };
}

function unfold(head) {
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function decode(body, encoding) {
  if (/quoted-printable/i.test(encoding)) {
    const bytes = body
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-F]{2})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  if (/base64/i.test(encoding)) return Buffer.from(body, "base64").toString("utf8");
  return body;
}
