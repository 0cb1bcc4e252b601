import { Hono } from "hono";
import type { ConsoleDeps } from "../deps.ts";
import type { ConsoleEnv } from "../env.ts";

export function adminConsole(_d: ConsoleDeps): Hono<ConsoleEnv> {
  return new Hono<ConsoleEnv>();
}
