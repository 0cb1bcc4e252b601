import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEPLOY } from "./prometheus-config.ts";

/**
 * No compose engine runs here: this checks what compose would resolve on disk — every build file, mounted file and
 * secret source the compose files name exists, the ledger is on a named volume, the model is mounted read-only.
 */
const COMPOSE_DIR = join(DEPLOY, "compose");
interface Service {
  build?: { context: string; dockerfile: string };
  volumes?: string[];
  secrets?: string[];
  depends_on?: Record<string, unknown>;
}
const load = (file: string) =>
  parse(readFileSync(join(COMPOSE_DIR, file), "utf8"), {
    customTags: [{ tag: "!override", resolve: (v: string) => v }],
  }) as {
    services: Record<string, Service>;
    volumes?: Record<string, unknown>;
    secrets?: Record<string, { file: string }>;
  };

describe("compose files", () => {
  const base = load("compose.yaml");
  const gpu = load("compose.gpu.yaml");

  it("names Dockerfiles and mounted config that exist", () => {
    for (const [name, service] of Object.entries({ ...base.services, ...gpu.services })) {
      if (service.build) {
        expect(existsSync(join(COMPOSE_DIR, service.build.context, service.build.dockerfile)), name).toBe(true);
      }
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0] as string;
        if (source.startsWith(".") && !source.includes("secrets")) {
          expect(existsSync(join(COMPOSE_DIR, source)), `${name}: ${source}`).toBe(true);
        }
      }
    }
    expect(Object.keys(base.services).sort()).toEqual(["gpu-node", "grafana", "prometheus", "proxy"]);
    expect(Object.keys(gpu.services).sort()).toEqual(["dcgm-exporter", "gpu-node"]);
  });

  it("keeps the ledger on a named volume, the model read-only, the admin token in a secret", () => {
    expect(base.services.proxy?.volumes).toContain("proxy-data:/data");
    expect(Object.keys(base.volumes ?? {})).toContain("proxy-data");
    expect(base.services["gpu-node"]?.volumes?.[0]).toMatch(/:\/models:ro$/);
    expect(base.services.proxy?.secrets).toEqual(["admin_token"]);
    expect(base.secrets?.admin_token?.file).toBe("./secrets/admin-token");
    // the scrape config's token file is what compose mounts into Prometheus
    const prometheusYml = readFileSync(join(DEPLOY, "prometheus", "prometheus.yml"), "utf8");
    expect(base.services.prometheus?.volumes).toContain(
      "./secrets/metrics-token:/etc/prometheus/secrets/metrics-token:ro",
    );
    expect(prometheusYml).toContain("credentials_file: /etc/prometheus/secrets/metrics-token");
  });
});
