import type { Hono } from "hono";
import { EMOTION_LABELS } from "../../http/schemas.ts";
import type { ConsoleDeps } from "../deps.ts";
import type { ConsoleContext, ConsoleEnv } from "../env.ts";
import { int, money } from "../format.ts";
import { formFields } from "../http.ts";
import { apiError, callApi } from "../internal.ts";
import { Csrf } from "../layout.tsx";
import { customerPage } from "./page.tsx";

/** The eight emotion dimensions of IndexTTS2's emotion vector, in the model's order. */
const DIMENSIONS = EMOTION_LABELS;
/** What the playground offers today: the proxy's /v1/tts answers WAV. */
const FORMATS = ["wav"] as const;

interface Heard {
  audioBase64: string;
  tokens: string;
  amount: string;
  multiplier: string;
  peak: string;
  requestId: string;
  randomWeights: boolean;
}

type Input = Record<string, string>;

function playgroundPage(d: ConsoleDeps, c: ConsoleContext, input: Input, heard: Heard | null, error: string | null) {
  const voices = d.proxy.voices();
  const mode = input.mode === "vector" ? "vector" : "label";
  return customerPage(
    c,
    "Playground",
    "/console/playground",
    <>
      <h1>Playground</h1>
      <p class="muted">
        Every synthesis here is a real request with your signed-in key: it is metered and billed like any other and
        appears in your usage.
      </p>
      <form method="post" action="/console/playground" class="card">
        <Csrf token={c.get("csrf")} />
        <label for="pg-text">Text</label>
        <textarea id="pg-text" name="text" required maxlength={d.proxy.config.maxTextChars}>
          {input.text ?? "Hello! This is IndexTTS2 speaking."}
        </textarea>
        <div class="row">
          <div>
            <label for="pg-voice">Voice</label>
            <select id="pg-voice" name="voice">
              {voices.map((v) => (
                <option value={String(v.id)} selected={input.voice === String(v.id)}>
                  {v.name}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="pg-speed">Speed</label>
            <input id="pg-speed" name="speed" type="number" min="0.5" max="2" step="0.05" value={input.speed ?? "1"} />
          </div>
          <div>
            <label for="pg-format">Format</label>
            <select id="pg-format" name="format">
              {FORMATS.map((f) => (
                <option value={f}>{f}</option>
              ))}
            </select>
          </div>
        </div>
        <fieldset>
          <legend>Emotion</legend>
          <label>
            <input type="radio" name="mode" value="label" checked={mode === "label"} /> By label
          </label>
          <label for="pg-emotion">Label</label>
          <select id="pg-emotion" name="emotion">
            <option value="">neutral (none)</option>
            {EMOTION_LABELS.map((e) => (
              <option value={e} selected={input.emotion === e}>
                {e}
              </option>
            ))}
          </select>
          <label>
            <input type="radio" name="mode" value="vector" checked={mode === "vector"} /> By the 8 sliders
          </label>
          <div class="grid">
            {DIMENSIONS.map((dim) => (
              <div>
                <label for={`pg-${dim}`}>{dim}</label>
                <input
                  id={`pg-${dim}`}
                  name={`v_${dim}`}
                  type="range"
                  min="0"
                  max="1.2"
                  step="0.05"
                  value={input[`v_${dim}`] ?? "0"}
                />
              </div>
            ))}
            <div>
              <label for="pg-alpha">Strength</label>
              <input id="pg-alpha" name="alpha" type="range" min="0" max="1" step="0.05" value={input.alpha ?? "1"} />
            </div>
          </div>
        </fieldset>
        <p>
          <button type="submit">Synthesize</button>
        </p>
      </form>
      {error && (
        <div class="flash err" role="alert">
          {error}
        </div>
      )}
      {heard && (
        <section class="card" aria-labelledby="heard-h">
          <h2 id="heard-h">Result</h2>
          {heard.randomWeights && (
            <p class="flash err">
              This node serves a model with random weights: the audio is noise, the metering real.
            </p>
          )}
          <audio controls src={`data:audio/wav;base64,${heard.audioBase64}`}>
            <track kind="captions" srclang="en" label="Text" src={captions(input.text ?? "")} default />
          </audio>
          <div class="grid">
            <div class="stat">
              <div class="v">{heard.tokens}</div>
              <div class="l">tokens</div>
            </div>
            <div class="stat">
              <div class="v">{heard.amount}</div>
              <div class="l">price</div>
            </div>
            <div class="stat">
              <div class="v">×{heard.multiplier}</div>
              <div class="l">{heard.peak === "true" ? "peak multiplier" : "off-peak"}</div>
            </div>
          </div>
          <p class="muted">
            Request <code>{heard.requestId}</code> (metered, marked as a console playground request in the log).
          </p>
        </section>
      )}
    </>,
    { status: error ? 400 : 200 },
  );
}

/** The synthesized text as the audio's caption track (WebVTT in a data: URL, allowed by the CSP's media-src). */
function captions(text: string): string {
  const cue = text.replaceAll("-->", "->").replace(/\n{2,}/g, "\n");
  return `data:text/vtt;charset=utf-8,${encodeURIComponent(`WEBVTT\n\n00:00:00.000 --> 99:00:00.000\n${cue}\n`)}`;
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** The playground: text, voice, emotion (label or vector with strength), speed, format → audio in the page. */
export function registerPlayground(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  app.get("/playground", (c) => playgroundPage(d, c, {}, null, null));
  app.post("/playground", async (c) => {
    const input = await formFields(c);
    const key = await d.signer.unseal(c.get("session"));
    if (!key) return c.redirect("/console/sign-in", 303);
    const body: Record<string, unknown> = {
      text: input.text ?? "",
      voice: Number(input.voice ?? 0),
      speed: Number(input.speed ?? 1),
    };
    if (input.mode === "vector") {
      body.emotion_vector = DIMENSIONS.map((dim) => Number(input[`v_${dim}`] ?? 0));
      body.emotion_alpha = Number(input.alpha ?? 1);
    } else if (input.emotion) {
      body.emotion = input.emotion;
    }
    const r = await callApi(d.app, c, key, "POST", "/v1/tts", body, "playground");
    if (r.status !== 200) return playgroundPage(d, c, input, null, apiError(r.json, `synthesis failed (${r.status})`));
    const h = r.response.headers;
    d.proxy.log?.({ level: "info", msg: "console playground request", request_id: h.get("x-request-id") });
    const currency = h.get("x-currency") ?? "";
    return playgroundPage(
      d,
      c,
      input,
      {
        audioBase64: toBase64(new Uint8Array(await r.response.arrayBuffer())),
        tokens: int(Number(h.get("x-tokens"))),
        amount: money(Number(h.get("x-amount-micros")), currency),
        multiplier: h.get("x-price-multiplier") ?? "1",
        peak: h.get("x-peak") ?? "false",
        requestId: h.get("x-request-id") ?? "",
        randomWeights: h.get("x-model-random-weights") !== null,
      },
      null,
    );
  });
}
