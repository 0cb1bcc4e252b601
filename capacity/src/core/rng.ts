/**
 * Seeded randomness (the gpu-node's xoshiro128** PRNG) so arrival times, wait times and payload choices can be
 * replayed exactly from `--seed`.
 */
import { Rng as Xoshiro } from "../../../gpu-node/src/engine/rng.ts";

/** uniform in [0, 1) */
export type Rng = () => number;

export function seededRng(seed: number): Rng {
  const r = new Xoshiro(seed);
  return () => r.nextFloat();
}

/** An exponential variate with mean 1 (the gap between Poisson arrivals at rate 1). */
export function exp1(rng: Rng): number {
  return -Math.log(1 - rng());
}

/** Locust's `between(a, b)`: uniform in [a, b]. */
export function between(rng: Rng, a: number, b: number): number {
  return a + (b - a) * rng();
}
