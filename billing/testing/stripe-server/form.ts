/**
 * Stripe's v1 request encoding: `application/x-www-form-urlencoded` with bracketed keys, as stripe-node writes it
 * (`metadata[k]=v`, `items[0][price]=p`, `expand[0]=lines`). Values stay strings; each endpoint converts and
 * validates its own parameters, as Stripe does.
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

export function parseForm(body: string): FormObject {
  const root: FormObject = {};
  if (!body) return root;
  for (const pair of body.split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    const rawKey = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decode(pair.slice(eq + 1));
    const path = keyPath(rawKey);
    if (!path) throw new FormError(`Invalid parameter name: ${rawKey}`);
    assign(root, path, value);
  }
  return arrays(root) as FormObject;
}

export class FormError extends Error {}

const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));

function keyPath(key: string): string[] | null {
  const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!m) return null;
  const path = [m[1] as string];
  for (const seg of (m[2] ?? "").matchAll(/\[([^[\]]*)\]/g)) path.push(seg[1] ?? "");
  return path;
}

function assign(target: FormObject, path: string[], value: string): void {
  let node: FormObject = target;
  for (let i = 0; i < path.length - 1; i++) {
    let key = path[i] as string;
    if (key === "") key = String(Object.keys(node).length);
    const next = node[key];
    if (next === undefined || typeof next === "string") {
      const fresh: FormObject = {};
      node[key] = fresh;
      node = fresh;
    } else node = next as FormObject;
  }
  let last = path[path.length - 1] as string;
  if (last === "") last = String(Object.keys(node).length);
  node[last] = value;
}

/** Objects whose keys are 0..n-1 become arrays (qs's indexed format). */
function arrays(value: FormValue): FormValue {
  if (typeof value === "string" || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted = Object.fromEntries(keys.map((k) => [k, arrays(value[k] as FormValue)]));
  if (keys.length > 0 && keys.every((k, i) => String(i) === k || /^\d+$/.test(k))) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => converted[String(k)] as FormValue);
  }
  return converted;
}

/** Canonical form for comparing the parameters of two requests (idempotency): key order does not matter. */
export function canonical(value: FormValue | undefined): string {
  if (value === undefined) return "";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
    .join(",")}}`;
}
