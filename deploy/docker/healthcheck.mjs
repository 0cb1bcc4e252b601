// Container health check (Docker HEALTHCHECK, compose): GET /healthz on the service's own port; exit 0 when it
// answers 200. The images have no curl, and node is there anyway.
const port = process.env.PORT ?? process.env.GPU_NODE_PORT ?? process.argv[2];
if (!port) {
  console.error("healthcheck: no PORT / GPU_NODE_PORT");
  process.exit(2);
}
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3_000) });
  process.exit(res.ok ? 0 : 1);
} catch (e) {
  console.error(`healthcheck: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
}
