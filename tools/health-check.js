#!/usr/bin/env node
// Calls grpc.health.v1.Health/Check once.
//   node tools/health-check.js 127.0.0.1:9876 [service]
// prints the status and exits 0 on SERVING, 1 otherwise (2 on bad usage).
// Also used as a module by tools/local-cluster.js: checkHealth(address, { service, timeoutMs }).
'use strict';

const grpc = require('@grpc/grpc-js');
const { service: healthService } = require('grpc-health-check');

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

/** Resolves with the status string ('SERVING', 'NOT_SERVING', ...); rejects with the gRPC error. */
function checkHealth(address, { service = '', timeoutMs = 2000 } = {}) {
  const client = new HealthClient(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.check({ service }, { deadline: Date.now() + timeoutMs }, (err, response) => {
      client.close();
      if (err) reject(err);
      else resolve(response.status);
    });
  });
}

async function main(argv) {
  const [address, service = ''] = argv;
  if (!address || address.startsWith('-')) {
    process.stderr.write('usage: node tools/health-check.js host:port [service]\n');
    return 2;
  }
  try {
    const status = await checkHealth(address, { service });
    process.stdout.write(`${address} ${service || '(server)'} ${status}\n`);
    return status === 'SERVING' ? 0 : 1;
  } catch (err) {
    const reason = err.code === grpc.status.UNAVAILABLE ? 'UNAVAILABLE' : err.message;
    process.stdout.write(`${address} ${service || '(server)'} ${reason}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

module.exports = { checkHealth };
