import { invalid } from "./errors.ts";
import type { FormObject, FormValue } from "./form.ts";

/** Parameter readers with Stripe's validation messages. Unknown parameters are refused, as Stripe does. */
export class Params {
  readonly #used = new Set<string>(["expand"]);

  constructor(readonly raw: FormObject) {}

  string(name: string, options: { required?: boolean; max?: number } = {}): string | undefined {
    this.#used.add(name);
    const v = this.raw[name];
    if (v === undefined || v === "") {
      if (options.required) throw invalid(`Missing required param: ${name}.`, name, "parameter_missing");
      return undefined;
    }
    if (typeof v !== "string") throw invalid(`Invalid string: ${name}`, name);
    if (options.max !== undefined && v.length > options.max) {
      throw invalid(`Invalid ${name}: must be at most ${options.max} characters`, name);
    }
    return v;
  }

  required(name: string): string {
    return this.string(name, { required: true }) as string;
  }

  integer(name: string, options: { required?: boolean; min?: number } = {}): number | undefined {
    const s = this.string(name, options);
    if (s === undefined) return undefined;
    if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw invalid(`Invalid integer: ${s}`, name);
    const n = Number(s);
    if (options.min !== undefined && n < options.min) {
      throw invalid(`This value must be greater than or equal to ${options.min}.`, name);
    }
    return n;
  }

  boolean(name: string): boolean | undefined {
    const s = this.string(name);
    if (s === undefined) return undefined;
    if (s !== "true" && s !== "false") throw invalid(`Invalid boolean: ${s}`, name);
    return s === "true";
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const s = this.string(name);
    if (s === undefined) return undefined;
    if (!values.includes(s as T)) throw invalid(`Invalid ${name}: must be one of ${values.join(", ")}`, name);
    return s as T;
  }

  /** A decimal string with at most 12 decimal places (Stripe's `*_decimal` fields). */
  decimal(name: string): string | undefined {
    const s = this.string(name);
    if (s === undefined) return undefined;
    if (!/^-?\d+(\.\d{1,12})?$/.test(s)) throw invalid(`Invalid decimal: ${s}`, name);
    return s;
  }

  metadata(): Record<string, string> {
    this.#used.add("metadata");
    const m = this.raw.metadata;
    if (m === undefined || m === "") return {};
    if (typeof m === "string" || Array.isArray(m)) throw invalid("Invalid metadata", "metadata");
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== "string") throw invalid(`Invalid metadata[${k}]`, "metadata");
      if (k.length > 40) throw invalid("Metadata keys can be at most 40 characters", "metadata");
      if (v.length > 500) throw invalid("Metadata values can be at most 500 characters", "metadata");
      if (v !== "") out[k] = v;
    }
    if (Object.keys(out).length > 50) throw invalid("Metadata can have at most 50 keys", "metadata");
    return out;
  }

  object(name: string): Params | undefined {
    this.#used.add(name);
    const v = this.raw[name];
    if (v === undefined) return undefined;
    if (typeof v === "string" || Array.isArray(v)) throw invalid(`Invalid object: ${name}`, name);
    return new Params(v);
  }

  list(name: string): Params[] {
    this.#used.add(name);
    const v = this.raw[name];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw invalid(`Invalid array: ${name}`, name);
    return v.map((item: FormValue) => {
      if (typeof item === "string" || Array.isArray(item)) throw invalid(`Invalid array: ${name}`, name);
      return new Params(item);
    });
  }

  /** Refuses any parameter the endpoint did not read ("Received unknown parameter: x"). */
  done(): void {
    for (const key of Object.keys(this.raw)) {
      if (!this.#used.has(key)) throw invalid(`Received unknown parameter: ${key}`, key, "parameter_unknown");
    }
  }
}
