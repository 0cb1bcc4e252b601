/**
 * The closed model with Locust's semantics, to reproduce the article's runs: a number of users, each running
 * "request, then wait `between(a, b)` seconds" in a loop; users are started (or stopped) at the spawn rate towards
 * the number the shape asks for. Latency is timed from the actual send, as Locust does. This model slows its own
 * sending when the server slows down (coordinated omission), so its percentiles under saturation are optimistic;
 * the open model (open.ts) is the one the capacity search uses.
 */
import { between, type Rng } from "../core/rng.ts";
import type { Payload } from "../payloads/profiles.ts";
import type { HttpExecutor, Sample } from "./executor.ts";
import type { UserShape } from "./shapes.ts";
import type { Recorder, StepSummary } from "./stats.ts";

export interface ClosedRunOptions {
  executor: HttpExecutor;
  recorder: Recorder;
  pick: () => Payload;
  shape: UserShape;
  /** Locust `wait_time = between(a, b)`, seconds; [0, 0] sends back to back */
  wait: readonly [number, number];
  rng: Rng;
  phase: string;
  step: string;
  shouldStop?: () => boolean;
}

interface User {
  stopped: boolean;
  waiting: NodeJS.Timeout | null;
  busy: boolean;
  onDone: (s: Sample) => void;
  wake: () => void;
}

const SPAWN_TICK_MS = 10;

export function runClosed(o: ClosedRunOptions): Promise<StepSummary> {
  const users = new Set<User>();
  let inFlight = 0;
  let finishing = false;
  let target = 0;
  let spawnRate = 1;
  let credit = 0;
  const started = performance.now();
  let last = started;
  const [waitMin, waitMax] = o.wait;
  const first = o.shape.tick(0);
  o.recorder.beginStep({ phase: o.phase, step: o.step, load: 0, unit: "users" }, () => inFlight);

  return new Promise<StepSummary>((resolve) => {
    let ended = false;
    let maxUsers = 0;
    const maybeEnd = () => {
      if (finishing && users.size === 0 && !ended) {
        ended = true;
        const summary = o.recorder.endStep();
        summary.load = maxUsers; // a step is labelled by the most users it ran
        resolve(summary);
      }
    };
    const retire = (u: User) => {
      users.delete(u);
      o.recorder.setLoad(users.size);
      maybeEnd();
    };
    const loop = (u: User) => {
      u.waiting = null;
      if (u.stopped || finishing) return retire(u);
      inFlight++;
      u.busy = true;
      o.recorder.sent(null, inFlight);
      o.executor.send(o.pick(), performance.now(), u.onDone);
    };
    // each user's completion callback and wake-up are made once, not per request
    const completed = (u: User, s: Sample) => {
      inFlight--;
      u.busy = false;
      o.recorder.completed(s);
      if (u.stopped || finishing) return retire(u);
      const waitMs = between(o.rng, waitMin, waitMax) * 1000;
      if (waitMs <= 0) loop(u);
      else u.waiting = setTimeout(u.wake, waitMs);
    };
    const newUser = (): User => {
      const u = { stopped: false, waiting: null, busy: false } as User;
      u.onDone = (s) => completed(u, s);
      u.wake = () => loop(u);
      return u;
    };
    const stopOne = (u: User) => {
      u.stopped = true;
      if (u.waiting) {
        clearTimeout(u.waiting);
        retire(u);
      }
    };
    const running = () => [...users].filter((u) => !u.stopped);
    const spawnTick = () => {
      const now = performance.now();
      credit = Math.min(credit + (spawnRate * (now - last)) / 1000, Math.max(1, spawnRate));
      last = now;
      let live = running();
      while (credit >= 1 && live.length !== target) {
        credit -= 1;
        if (live.length < target) {
          const u = newUser();
          users.add(u);
          loop(u);
        } else {
          const idle = live.find((u) => !u.busy) ?? live[live.length - 1];
          if (idle) stopOne(idle);
        }
        live = running();
      }
      if (live.length > maxUsers) maxUsers = live.length;
      o.recorder.setLoad(live.length);
    };
    const shapeTick = () => {
      const next = finishing || o.shouldStop?.() ? null : o.shape.tick((performance.now() - started) / 1000);
      if (next === null) {
        finishing = true;
        clearInterval(spawner);
        clearInterval(shaper);
        for (const u of [...users]) stopOne(u);
        maybeEnd();
        return;
      }
      target = next.users;
      spawnRate = next.spawnRate;
    };
    if (first) {
      target = first.users;
      spawnRate = first.spawnRate;
      credit = Math.min(1, spawnRate);
    }
    const spawner = setInterval(spawnTick, SPAWN_TICK_MS);
    const shaper = setInterval(shapeTick, 250);
    if (!first) shapeTick();
    else spawnTick();
  });
}
