import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium (installed by .ci/run), headless, with nothing that reaches outside this machine. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Each launch gets a fresh profile: Playwright creates a new temporary --user-data-dir for every non-persistent
 * launch and deletes it on close (it refuses the flag in `args`), and each test user gets its own context.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
