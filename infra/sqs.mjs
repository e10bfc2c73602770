#!/usr/bin/env node
// Launcher for local-aws-sqs, which is a library without a CLI.
//
//   node infra/sqs.mjs [--host 127.0.0.1] [--port 9324] [--region eu-north-1]
//
// The host is both the listen address and the host in returned QueueUrls, so
// clients get URLs that point back at this server. Defaults to loopback only.
import { parseArgs } from "node:util";
import { createSqsServer } from "local-aws-sqs";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "9324" },
    region: { type: "string", default: "eu-north-1" },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`sqs: invalid --port ${values.port}`);
  process.exit(2);
}

const server = await createSqsServer({
  port,
  hostname: values.host,
  region: values.region,
  // Real SQS refuses to re-create a deleted queue for 60s; tests re-create freely.
  emulateQueueCreationLifecycle: false,
});
// A listen error (EADDRINUSE) is an unhandled 'error' event: the process
// exits non-zero before reaching the ready line, which is what callers want.

const addr = server.address();
console.log(`local-aws-sqs listening at: http://${values.host}:${addr.port}`);

for (const sig of ["SIGINT", "SIGTERM"]) {
  // Long polls hold connections open; drop them instead of waiting.
  process.on(sig, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
