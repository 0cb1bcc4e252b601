import type { ConsoleDeps } from "./deps.ts";
import type { ConsoleContext } from "./env.ts";
import { DEFAULT_SIGN_IN_POLICY, formFields, readCookie, sameOrigin, setSessionCookie, signInAllowed } from "./http.ts";
import { Csrf, Layout } from "./layout.tsx";
import { randomToken } from "./session.ts";

/**
 * The sign-in form of a console. Its CSRF token is bound to a random pre-session cookie, so another site cannot sign
 * a browser in under its own key (login CSRF). Attempts are rate-limited per client IP.
 */
export interface SignInSpec {
  area: string;
  /** the cookie's path and the console's root */
  root: string;
  action: string;
  label: string;
  hint: string;
  autocomplete: string;
}

const PRE_COOKIE = "tts_console_pre";

export async function renderSignIn(
  d: ConsoleDeps,
  c: ConsoleContext,
  spec: SignInSpec,
  error: string | null = null,
  status: 200 | 401 | 403 | 429 = 200,
) {
  let pre = readCookie(c, PRE_COOKIE);
  if (!pre || pre.length < 16) {
    pre = randomToken();
    setSessionCookie(c, PRE_COOKIE, spec.root, pre, 3_600_000);
  }
  const csrf = await d.signer.csrfToken(`sign-in.${pre}`);
  return c.html(
    <Layout title="Sign in" area={spec.area} nonce={c.get("nonce")} flash={error ? { kind: "err", text: error } : null}>
      <div class="signin card">
        <h1>Sign in</h1>
        <form method="post" action={spec.action}>
          <Csrf token={csrf} />
          <label for="credential">
            {spec.label} <span class="hint">{spec.hint}</span>
          </label>
          <input
            id="credential"
            name="credential"
            type="password"
            required
            autocomplete={spec.autocomplete}
            spellcheck={false}
          />
          <p>
            <button type="submit">Sign in</button>
          </p>
        </form>
      </div>
    </Layout>,
    status,
  );
}

/**
 * Checks a sign-in POST: rate limit, origin, CSRF. Returns the credential typed in, or a rendered refusal.
 */
export async function readSignIn(
  d: ConsoleDeps,
  c: ConsoleContext,
  spec: SignInSpec,
): Promise<{ credential: string } | { refused: Response | Promise<Response> }> {
  const policy = d.proxy.config.consoleSignInPolicy ?? DEFAULT_SIGN_IN_POLICY;
  const limit = await signInAllowed(d.proxy.rateLimiter, policy, spec.root, d.clientIp(c));
  if (!limit.allowed) {
    c.header("retry-after", String(limit.retryAfterSeconds));
    return {
      refused: renderSignIn(d, c, spec, `Too many sign-in attempts: try again in ${limit.retryAfterSeconds} s.`, 429),
    };
  }
  const fields = await formFields(c);
  const pre = readCookie(c, PRE_COOKIE);
  if (!sameOrigin(c) || !pre || !(await d.signer.checkCsrf(`sign-in.${pre}`, fields._csrf))) {
    return { refused: renderSignIn(d, c, spec, "This form expired: please sign in again.", 403) };
  }
  const credential = (fields.credential ?? "").trim();
  if (!credential) return { refused: renderSignIn(d, c, spec, "Enter your credential.", 401) };
  return { credential };
}

export function startSession(c: ConsoleContext, cookie: string, root: string, value: string, ttlMs: number) {
  setSessionCookie(c, cookie, root, value, ttlMs);
}
