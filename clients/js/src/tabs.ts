import type { Tokens } from "./types.js";

/** What one tab tells the others of the same browser about the session they share. */
export type TabMessage =
  | { type: "SIGNED_IN" | "TOKEN_REFRESHED"; accessToken: string; expiresAt: number }
  | { type: "SIGNED_OUT" };

/** The tabs of one browser that share authgate's refresh cookie. */
export interface Tabs {
  /** Tells every other tab. */
  post(message: TabMessage): void;
  /**
   * Rotates the refresh token under a lock held across tabs, so that tabs refreshing at the
   * same moment rotate once: a tab that had to wait for the lock takes the token the holder
   * broadcast (`fresh`) instead of rotating again.
   */
  refresh(fresh: () => Tokens | null, rotate: () => Promise<Tokens>): Promise<Tokens>;
  /** Stops listening. */
  close(): void;
}

/** How long a tab that waited for the lock waits for the holder's broadcast to arrive. */
const PEER_WAIT_MS = 1000;

/** Joins the other tabs on `name`, or returns undefined where `BroadcastChannel` is missing. */
export function joinTabs(
  name: string,
  timeout: number,
  receive: (message: TabMessage) => void,
): Tabs | undefined {
  if (typeof BroadcastChannel != "function") return;
  const channel = new BroadcastChannel(name);
  let wake = () => {};
  channel.onmessage = (e) => {
    receive(e.data);
    wake();
  };
  // The holder posts before it releases the lock, but the message and the lock grant travel
  // separately: the next holder may get the lock first, so it waits (briefly) for the message.
  const heard = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(PEER_WAIT_MS, timeout));
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  return {
    post: (message) => channel.postMessage(message),
    close: () => channel.close(),
    async refresh(fresh, rotate) {
      const locks: LockManager | undefined = globalThis.navigator?.locks;
      if (!locks) return rotate();
      // Free lock: nobody is refreshing, so rotate. Taken: a peer is, so wait for its result.
      const alone = await locks.request(name, { ifAvailable: true }, (lock) =>
        lock ? (fresh() ?? rotate()) : null,
      );
      if (alone) return alone;
      let granted = false;
      try {
        return await locks.request(name, { signal: AbortSignal.timeout(timeout) }, async () => {
          granted = true;
          return fresh() ?? (await heard(), fresh()) ?? rotate();
        });
      } catch (e) {
        if (granted) throw e;
        // No lock in time (a frozen tab holds it): rotate anyway. Concurrent refreshes with
        // one cookie get the same successor within the server's grace window, so this is safe.
        return rotate();
      }
    },
  };
}
