/**
 * A minimal cookie-keeping client over `app.request` for server-side console tests (the browser tests use Chromium).
 * It follows no redirects, so tests see each 303.
 */
export class ConsoleClient {
  readonly cookies = new Map<string, string>();

  constructor(
    private readonly request: (path: string, init?: RequestInit) => Response | Promise<Response>,
    private readonly origin = "http://localhost",
  ) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    const res = await this.request(`${this.origin}${path}`, { redirect: "manual", ...init, headers });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === "" || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  get(path: string): Promise<Response> {
    return this.fetch(path);
  }

  post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.fetch(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: this.origin, ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** The value of a hidden `_csrf` field in a page. */
  static csrf(html: string): string {
    return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  }

  /** Signs in through the form at `root`/sign-in; returns the final response (303 on success). */
  async signIn(root: string, credential: string): Promise<Response> {
    const form = await (await this.get(`${root}/sign-in`)).text();
    return this.post(`${root}/sign-in`, { _csrf: ConsoleClient.csrf(form), credential });
  }
}
