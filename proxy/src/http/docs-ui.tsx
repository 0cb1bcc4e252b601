import { raw } from "hono/html";

/**
 * The interactive API reference at /docs: Swagger UI (swagger-ui-dist, served by this app from /docs/assets/, never a
 * CDN) over /openapi.json, with "Try it out" against this proxy once a key is entered under Authorize; above it,
 * copyable quick-start examples in curl, JavaScript, Python and the OpenAI SDK. Everything that runs carries the
 * response's CSP nonce.
 */
export function docsCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

function examples(origin: string): { id: string; label: string; code: string }[] {
  const text = "欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。";
  return [
    {
      id: "curl",
      label: "curl",
      code: `curl -s -X POST ${origin}/v1/tts \\
  -H "Authorization: Bearer $TTS_API_KEY" -H 'content-type: application/json' \\
  -d '{"text":"${text}","emotion":"happy","voice":0}' -o out.wav -D -`,
    },
    {
      id: "js",
      label: "JavaScript",
      code: `const res = await fetch("${origin}/v1/tts", {
  method: "POST",
  headers: { Authorization: \`Bearer \${process.env.TTS_API_KEY}\`, "content-type": "application/json" },
  body: JSON.stringify({ text: "${text}", emotion: "happy", voice: 0 }),
});
if (!res.ok) throw new Error((await res.json()).error.message);
console.log("tokens", res.headers.get("x-tokens"), "price (micros)", res.headers.get("x-amount-micros"));
await fs.promises.writeFile("out.wav", Buffer.from(await res.arrayBuffer()));`,
    },
    {
      id: "python",
      label: "Python",
      code: `import os, requests

res = requests.post(
    "${origin}/v1/tts",
    headers={"Authorization": f"Bearer {os.environ['TTS_API_KEY']}"},
    json={"text": "${text}", "emotion": "happy", "voice": 0},
)
res.raise_for_status()
print("tokens", res.headers["x-tokens"], "price (micros)", res.headers["x-amount-micros"])
open("out.wav", "wb").write(res.content)`,
    },
    {
      id: "openai-py",
      label: "OpenAI SDK (Python)",
      code: `from openai import OpenAI

client = OpenAI(base_url="${origin}/v1", api_key=os.environ["TTS_API_KEY"])
with client.audio.speech.with_streaming_response.create(
    model="indextts2", voice="alice", input="Hello!", response_format="wav",
    instructions="speak in a happy tone",
) as response:
    response.stream_to_file("out.wav")`,
    },
    {
      id: "openai-js",
      label: "OpenAI SDK (JavaScript)",
      code: `import OpenAI from "openai";

const client = new OpenAI({ baseURL: "${origin}/v1", apiKey: process.env.TTS_API_KEY });
const speech = await client.audio.speech.create({
  model: "indextts2", voice: "alice", input: "Hello!", response_format: "wav",
});
await fs.promises.writeFile("out.wav", Buffer.from(await speech.arrayBuffer()));`,
    },
  ];
}

const PAGE_CSS = `body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1b1f24;background:#fafafa}
.intro{max-width:1460px;margin:0 auto;padding:24px 20px 0}h1{margin:0 0 8px}details{margin:8px 0;background:#fff;border:1px solid #d8dde3;border-radius:6px;padding:8px 12px}
summary{cursor:pointer;font-weight:600}pre{background:#101828;color:#e4e7ec;padding:12px;border-radius:6px;overflow:auto;font-size:13px}
button.copy{font:inherit;padding:4px 10px;border-radius:6px;border:1px solid #2b59c3;background:#fff;color:#2b59c3;cursor:pointer}
a:focus-visible,button:focus-visible,summary:focus-visible{outline:3px solid #f5b400;outline-offset:2px}`;

/** Copy buttons and Swagger UI's start: the page's only inline script, under the nonce. */
const INIT = `
for (const b of document.querySelectorAll("button.copy")) {
  b.addEventListener("click", async () => {
    await navigator.clipboard.writeText(document.getElementById(b.dataset.for).textContent);
    b.textContent = "Copied";
  });
}
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  tryItOutEnabled: false,
  persistAuthorization: false,
  requestSnippetsEnabled: true,
  displayRequestDuration: true,
});`;

export function DocsPage(props: { nonce: string; origin: string }) {
  return (
    <>
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>IndexTTS2 API reference</title>
          <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
          <style nonce={props.nonce}>{raw(PAGE_CSS)}</style>
        </head>
        <body>
          <main>
            <section class="intro" aria-labelledby="quick-h">
              <h1 id="quick-h">IndexTTS2 API</h1>
              <p>
                Send your API key as <code>Authorization: Bearer &lt;key&gt;</code> (or <code>x-api-key</code>). Keys,
                usage and a playground are in the <a href="/console">console</a>. 1 s of audio = 50 tokens; prices are
                integer micro-units. The machine-readable document is <a href="/openapi.json">/openapi.json</a>; try any
                request below with <em>Authorize</em> and <em>Try it out</em>.
              </p>
              {examples(props.origin).map((e) => (
                <details open={e.id === "curl"}>
                  <summary>{e.label}</summary>
                  <pre>
                    <code id={`ex-${e.id}`}>{e.code}</code>
                  </pre>
                  <button type="button" class="copy" data-for={`ex-${e.id}`}>
                    Copy
                  </button>
                </details>
              ))}
            </section>
            <div id="swagger-ui" />
          </main>
          <script nonce={props.nonce} src="/docs/assets/swagger-ui-bundle.js" />
          <script nonce={props.nonce}>{raw(INIT)}</script>
        </body>
      </html>
    </>
  );
}
