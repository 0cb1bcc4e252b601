import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSqlite } from "../../../storage/sqlite/open.ts";
import { createSqliteStores } from "../adapters/sqlite/index.ts";
import { createMemoryStores } from "../store/memory/index.ts";
import type { Stores } from "../store/ports.ts";
import { ADMIN_TOKEN, createInProcessProxy } from "../testing/stack.ts";
import { ConsoleClient } from "./testing/browserless.ts";

type Proxy = Awaited<ReturnType<typeof createInProcessProxy>>;

/**
 * Sign-out holds across app instances: two apps (two processes, replicas or Workers isolates) over one database; a
 * session signed out on one is refused by the other, which never saw the sign-out itself.
 */
describe.each(["memory", "SQLite"])("console sign-out across app instances (%s)", (engine) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Two apps over one store: the same stores object in memory; two connections (as two processes) on SQLite. */
  async function twoApps(): Promise<[Proxy, Proxy]> {
    let storesA: Stores;
    let storesB: Stores;
    if (engine === "memory") {
      storesA = createMemoryStores();
      storesB = storesA;
    } else {
      const dir = await mkdtemp(join(tmpdir(), "console-sessions-"));
      const dbA = openSqlite(join(dir, "proxy.db"));
      const dbB = openSqlite(join(dir, "proxy.db"));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      cleanups.push(() => void dbA.$client.close());
      cleanups.push(() => void dbB.$client.close());
      storesA = createSqliteStores(dbA);
      storesB = createSqliteStores(dbB);
    }
    const config = { consoleSignInPolicy: { ratePerSecond: 1_000, burst: 1_000 } };
    const a = await createInProcessProxy({ stores: storesA, config });
    const b = await createInProcessProxy({ stores: storesB, config });
    cleanups.push(() => a.close());
    cleanups.push(() => b.close());
    return [a, b];
  }

  /** A client of app `to` holding the cookies `from` holds: a cookie copied to another replica. */
  const copied = (from: ConsoleClient, to: Proxy) => {
    const client = new ConsoleClient(to.request);
    for (const [k, v] of from.cookies) client.cookies.set(k, v);
    return client;
  };

  it("a customer session signed out on one instance is refused by the other", async () => {
    const [a, b] = await twoApps();
    const customer = await a.newCustomer("basic");
    const onA = new ConsoleClient(a.request);
    expect((await onA.signIn("/console", customer.key)).status).toBe(303);
    const onB = copied(onA, b);
    expect((await onB.get("/console/usage")).status).toBe(200);

    const page = await (await onA.get("/console/keys")).text();
    expect((await onA.post("/console/sign-out", { _csrf: ConsoleClient.csrf(page) })).status).toBe(303);
    const refused = await onB.get("/console/usage");
    expect(refused.status).toBe(303);
    expect(refused.headers.get("location")).toBe("/console/sign-in");
    // A new sign-in is a new session, unaffected.
    const again = new ConsoleClient(b.request);
    expect((await again.signIn("/console", customer.key)).status).toBe(303);
    expect((await again.get("/console/usage")).status).toBe(200);
  });

  it("an admin session signed out on one instance is refused by the other", async () => {
    const [a, b] = await twoApps();
    const onA = new ConsoleClient(a.request);
    expect((await onA.signIn("/admin/console", ADMIN_TOKEN)).status).toBe(303);
    const onB = copied(onA, b);
    expect((await onB.get("/admin/console/customers")).status).toBe(200);

    const page = await (await onA.get("/admin/console/customers")).text();
    expect((await onA.post("/admin/console/sign-out", { _csrf: ConsoleClient.csrf(page) })).status).toBe(303);
    expect((await onB.get("/admin/console/customers")).status).toBe(303);
  });
});
