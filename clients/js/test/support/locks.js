// An in-process stand-in for the Web Locks API (exclusive mode, `ifAvailable`, `signal`), for
// the unit tests: Node 20 has `BroadcastChannel` but no `navigator.locks`. The real API is
// exercised in Chromium by the browser tests.

/** A LockManager whose locks can also be held from outside (`hold`) to test timeouts. */
export function lockManager() {
  const held = new Set();
  const queues = new Map();

  function release(name) {
    held.delete(name);
    const next = queues.get(name)?.shift();
    if (next) next();
  }

  function grant(name, callback) {
    held.add(name);
    return Promise.resolve()
      .then(() => callback({ name, mode: "exclusive" }))
      .finally(() => release(name));
  }

  return {
    /** Times a lock was granted (callback run with a lock). */
    grants: 0,
    request(name, options, callback) {
      if (typeof options === "function") [options, callback] = [{}, options];
      if (!held.has(name)) {
        this.grants += 1;
        return grant(name, callback);
      }
      if (options.ifAvailable) return Promise.resolve().then(() => callback(null));
      return new Promise((ok, fail) => {
        const queue = queues.get(name) ?? [];
        queues.set(name, queue);
        let started = false;
        const start = () => {
          started = true;
          this.grants += 1;
          grant(name, callback).then(ok, fail);
        };
        queue.push(start);
        options.signal?.addEventListener("abort", () => {
          if (started) return; // like the real API: an abort after the grant changes nothing
          const i = queue.indexOf(start);
          if (i >= 0) queue.splice(i, 1);
          fail(options.signal.reason);
        });
      });
    },
    /** Holds `name` until the returned function is called. */
    hold(name) {
      let free;
      this.request(name, {}, () => new Promise((ok) => (free = ok)));
      return () => free();
    },
  };
}
