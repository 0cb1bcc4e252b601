import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { prometheusRuleYaml } from "../k8s/monitoring/generate-prometheus-rule.mjs";
import { type K8sObject, validateObject } from "./k8s-validate.ts";
import { run } from "./processes.ts";
import { DEPLOY } from "./prometheus-config.ts";

/**
 * The kustomizations rendered by Debian's kubectl 1.20 (kustomize v2.0.3; deploy/tools/install-kubectl.sh, run by
 * .ci/run), every object validated against the Kubernetes 1.27 schemas (k8s-validate.ts), then what the issue asks of
 * them checked by path: GPUs, probes, drain, budgets, network policy, secrets, autoscaling.
 */
const KUBECTL = process.env.KUBECTL ?? join(DEPLOY, "..", ".tools", "kubernetes-client", "usr", "bin", "kubectl");
const TARGETS = ["overlays/cpu-demo", "overlays/gpu", "overlays/gpu-keda", "overlays/scale-out", "monitoring"] as const;
type Target = (typeof TARGETS)[number];

async function render(target: string): Promise<K8sObject[]> {
  const r = await run(KUBECTL, ["kustomize", join(DEPLOY, "k8s", target)]);
  if (r.code !== 0) throw new Error(`kubectl kustomize ${target}: ${r.output}`);
  return (
    parseAllDocuments(r.output)
      .map((d) => d.toJS() as K8sObject)
      // kustomize v2.0.3 leaves an empty document where a `$patch: delete` removed an object (v3+ drops it)
      .filter((o) => o && Object.keys(o).length > 0)
  );
}
const find = (objects: K8sObject[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name}`);
  return o;
};
// biome-ignore lint/suspicious/noExplicitAny: untyped YAML
const container = (deployment: K8sObject): any => deployment.spec.template.spec.containers[0];

describe("Kubernetes manifests (kustomize render + Kubernetes 1.27 schemas)", () => {
  const rendered = {} as Record<Target, K8sObject[]>;

  beforeAll(async () => {
    if (!existsSync(KUBECTL)) throw new Error(`${KUBECTL} missing: run deploy/tools/install-kubectl.sh (.ci/run does)`);
    for (const t of TARGETS) rendered[t] = await render(t);
  });

  it("every rendered object is valid against its schema", async () => {
    for (const t of TARGETS) {
      expect(rendered[t].length, t).toBeGreaterThan(3);
      for (const o of rendered[t]) {
        await expect(validateObject(o), `${t}: ${o.kind}/${o.metadata.name}`).resolves.toBeUndefined();
      }
    }
  });

  it("the validator rejects what the API server would (so the check above can fail)", async () => {
    const d = structuredClone(find(rendered["overlays/gpu"], "Deployment", "gpu-node"));
    d.spec.replicas = "two";
    await expect(validateObject(d)).rejects.toThrow(/replicas must be integer/);
    const hpa = structuredClone(find(rendered["overlays/gpu"], "HorizontalPodAutoscaler", "gpu-node"));
    delete hpa.spec.maxReplicas;
    await expect(validateObject(hpa)).rejects.toThrow(/maxReplicas/);
    const so = structuredClone(find(rendered["overlays/gpu-keda"], "ScaledObject", "gpu-node"));
    delete so.spec.triggers;
    await expect(validateObject(so)).rejects.toThrow(/triggers/);
  });

  it("gpu overlays: CUDA image, one nvidia.com/gpu per node pod, CUDA provider first", () => {
    for (const t of ["overlays/gpu", "overlays/gpu-keda"] as const) {
      const c = container(find(rendered[t], "Deployment", "gpu-node"));
      expect(c.image, t).toMatch(/-cuda$/);
      expect(c.resources.limits["nvidia.com/gpu"], t).toBe("1");
      expect(c.env.find((e: { name: string }) => e.name === "GPU_NODE_PROVIDERS").value).toBe("cuda,cpu");
    }
    const cpu = container(find(rendered["overlays/cpu-demo"], "Deployment", "gpu-node"));
    expect(cpu.resources.limits["nvidia.com/gpu"]).toBeUndefined();
  });

  it("probes on /healthz, graceful drain (preStop + grace period beyond the request timeout), requests and limits", () => {
    const objects = rendered["overlays/gpu"];
    for (const name of ["gpu-node", "proxy"]) {
      const d = find(objects, "Deployment", name);
      const c = container(d);
      expect(c.readinessProbe.httpGet.path, name).toBe("/healthz");
      expect(c.livenessProbe.httpGet.path, name).toBe("/healthz");
      expect(c.lifecycle.preStop.exec.command[0], name).toBe("sleep");
      expect(d.spec.template.spec.terminationGracePeriodSeconds, name).toBeGreaterThan(120);
      expect(c.resources.requests.cpu, name).toBeDefined();
      expect(c.resources.limits.memory, name).toBeDefined();
      expect(d.spec.template.spec.securityContext.runAsNonRoot, name).toBe(true);
    }
    const node = container(find(objects, "Deployment", "gpu-node"));
    // the model is a read-only volume, never part of the image
    expect(node.volumeMounts).toContainEqual({ name: "models", mountPath: "/models", readOnly: true });
    // one proxy on SQLite (overlays/scale-out has several on Postgres): Recreate, so two never open the same database
    const proxy = find(objects, "Deployment", "proxy");
    expect(proxy.spec.replicas).toBe(1);
    expect(proxy.spec.strategy.type).toBe("Recreate");
  });

  it("scale-out: several proxies on Postgres + Redis from a Secret, rolling, no SQLite volume, two always serving", () => {
    const objects = rendered["overlays/scale-out"];
    const proxy = find(objects, "Deployment", "proxy");
    expect(proxy.spec.replicas).toBe(3);
    expect(proxy.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const env = container(proxy).env as { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }[];
    for (const name of ["DATABASE_URL", "REDIS_URL"]) {
      expect(env.find((e) => e.name === name)?.valueFrom.secretKeyRef, name).toEqual({
        name: "indextts-datastores",
        key: name,
      });
    }
    // DATABASE_URL requires ADMIN_TOKEN (each replica would otherwise make its own): still from the Secret
    expect(env.find((e) => e.name === "ADMIN_TOKEN")?.valueFrom.secretKeyRef.name).toBe("indextts-secrets");
    expect(proxy.spec.template.spec.volumes).toContainEqual({ name: "data", emptyDir: {} });
    expect(objects.some((o) => o.kind === "PersistentVolumeClaim" && o.metadata.name === "proxy-data")).toBe(false);
    const pdb = find(objects, "PodDisruptionBudget", "proxy");
    expect(pdb.spec).toMatchObject({ minAvailable: 2 });
    expect(pdb.spec.maxUnavailable).toBeUndefined();
    const hpa = find(objects, "HorizontalPodAutoscaler", "proxy");
    expect(hpa.spec.scaleTargetRef.name).toBe("proxy");
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(pdb.spec.minAvailable + 1);
    const secret = find(objects, "Secret", "indextts-datastores") as unknown as { stringData: Record<string, string> };
    expect(Object.keys(secret.stringData).sort()).toEqual(["DATABASE_URL", "REDIS_URL"]);
    // the ConfigMap holds no datastore URL (they carry passwords)
    const config = find(objects, "ConfigMap", "proxy-config") as unknown as { data: Record<string, string> };
    expect(Object.keys(config.data).filter((k) => /URL/.test(k) && k !== "GPU_NODES")).toEqual([]);
    // the gpu-nodes are the gpu overlay's, unchanged
    expect(find(objects, "Deployment", "gpu-node")).toEqual(find(rendered["overlays/gpu"], "Deployment", "gpu-node"));
  });

  it("disruption budgets and network policy: node pods reachable only from the proxy (and Prometheus)", () => {
    const objects = rendered["overlays/gpu"];
    const pdb = find(objects, "PodDisruptionBudget", "gpu-node");
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector.matchLabels["app.kubernetes.io/name"]).toBe("gpu-node");
    const deny = find(objects, "NetworkPolicy", "default-deny-ingress");
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
    const np = find(objects, "NetworkPolicy", "gpu-node-from-proxy-only");
    expect(np.spec.podSelector.matchLabels["app.kubernetes.io/name"]).toBe("gpu-node");
    const sources = np.spec.ingress.flatMap((rule: { from: unknown[] }) => rule.from);
    expect(sources).toEqual([
      // commonLabels adds part-of to selectors too (the pods carry it)
      { podSelector: { matchLabels: { "app.kubernetes.io/name": "proxy", "app.kubernetes.io/part-of": "indextts" } } },
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
    ]);
  });

  it("secrets: the admin token and Stripe keys come from the Secret, never from the ConfigMap", () => {
    const objects = rendered["overlays/gpu"];
    const secret = find(objects, "Secret", "indextts-secrets") as unknown as { stringData: Record<string, string> };
    expect(Object.keys(secret.stringData).sort()).toEqual(
      ["ADMIN_TOKEN", "METRICS_TOKEN", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"].sort(),
    );
    const env = container(find(objects, "Deployment", "proxy")).env as {
      name: string;
      valueFrom: { secretKeyRef: { name: string } };
    }[];
    for (const name of ["ADMIN_TOKEN", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]) {
      expect(env.find((e) => e.name === name)?.valueFrom.secretKeyRef.name, name).toBe("indextts-secrets");
    }
    const config = find(objects, "ConfigMap", "proxy-config") as unknown as { data: Record<string, string> };
    expect(Object.keys(config.data).filter((k) => /TOKEN|STRIPE|SECRET/.test(k))).toEqual([]);
  });

  it("autoscaling: HPA on DCGM GPU utilisation (80) and queue depth, slow scale-in; KEDA variant alike", () => {
    const hpa = find(rendered["overlays/gpu"], "HorizontalPodAutoscaler", "gpu-node");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "gpu-node" });
    const metrics = hpa.spec.metrics.map((m: { pods: { metric: { name: string }; target: object } }) => [
      m.pods.metric.name,
      m.pods.target,
    ]);
    expect(metrics).toEqual([
      ["dcgm_gpu_utilization", { type: "AverageValue", averageValue: "80" }],
      ["gpu_node_queue_depth", { type: "AverageValue", averageValue: "4" }],
    ]);
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
    expect(rendered["overlays/gpu-keda"].some((o) => o.kind === "HorizontalPodAutoscaler")).toBe(false);
    const so = find(rendered["overlays/gpu-keda"], "ScaledObject", "gpu-node");
    expect(so.spec.triggers.map((t: { metadata: { threshold: string } }) => t.metadata.threshold)).toEqual(["80", "4"]);
    // the adapter serves both names the HPA asks for
    const adapter = find(rendered.monitoring, "ConfigMap", "prometheus-adapter-indextts") as unknown as {
      data: Record<string, string>;
    };
    for (const name of ["dcgm_gpu_utilization", "gpu_node_queue_depth"]) {
      expect(adapter.data["config.yaml"]).toContain(`as: "${name}"`);
    }
  });

  it("monitoring: the PrometheusRule is generated from deploy/prometheus/rules (one source of truth)", () => {
    const committed = readFileSync(join(DEPLOY, "k8s", "monitoring", "prometheus-rule.yaml"), "utf8");
    expect(committed).toBe(prometheusRuleYaml());
    const monitors = rendered.monitoring.filter((o) => o.kind === "ServiceMonitor").map((o) => o.metadata.name);
    expect(monitors.sort()).toEqual(["gpu-node", "proxy"]);
  });
});
