/**
 * Validates rendered Kubernetes objects against the OpenAPI schemas of Kubernetes 1.27 (npm kubernetes-models 5.1.0,
 * generated from the v1.27.1 OpenAPI spec and compiled to validators) and, for the custom resources, the CRD schemas
 * shipped by @kubernetes-models/keda (ScaledObject) and @kubernetes-models/prometheus-operator (ServiceMonitor,
 * PrometheusRule). Like the API server's OpenAPI schemas these check types, formats, enums and required fields; they
 * do not reject unknown fields, so the tests also assert the fields that matter by path.
 */
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are read as untyped YAML
  spec?: any;
}

export type { K8sObject };

const CRD_PACKAGES: Record<string, string> = {
  "keda.sh": "@kubernetes-models/keda",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

/** The model module for an apiVersion and kind, e.g. apps/v1 Deployment → kubernetes-models/apps/v1/Deployment. */
function modelPath(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group && CRD_PACKAGES[group]) return `${CRD_PACKAGES[group]}/${group}/${version}/${kind}`;
  return group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/v1/${kind}`;
}

/** Throws with the schema's errors when `object` is invalid (or its kind has no schema). */
export async function validateObject(object: K8sObject): Promise<void> {
  const path = modelPath(object.apiVersion, object.kind);
  let mod: Record<string, new (data: unknown) => { validate(): void }>;
  try {
    mod = await import(path);
  } catch {
    throw new Error(`${object.apiVersion} ${object.kind}: no schema (${path})`);
  }
  const Model = mod[object.kind];
  if (!Model) throw new Error(`${path} has no ${object.kind}`);
  new Model(object).validate();
}
