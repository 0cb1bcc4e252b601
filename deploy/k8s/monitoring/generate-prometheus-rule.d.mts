/** The PrometheusRule YAML built from deploy/prometheus/rules/*.yml. */
export function prometheusRuleYaml(): string;
