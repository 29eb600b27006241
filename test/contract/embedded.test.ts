/**
 * The store contract against EmbeddedStoreServer, reached through consul:// like an agent
 * would; the restart test stops it and starts a new server on the same port and data dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { EmbeddedStoreServer } from '../../src/control/store/embedded-server.js';
import { openStore } from '../../src/control/store/store-url.js';
import { describeStoreContract } from './store-contract.js';

let dir = '';
let server: EmbeddedStoreServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ovn-embedded-'));
  server = new EmbeddedStoreServer({ dataDir: dir, host: '127.0.0.1', port: 0, fsync: false });
  await server.start();
});

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describeStoreContract('embedded', () => openStore(server.url, { watchWaitSeconds: 5 }), {
  ttlSeconds: 2,
  restartServer: async () => {
    const port = server.port;
    await server.stop();
    server = new EmbeddedStoreServer({ dataDir: dir, host: '127.0.0.1', port, fsync: false });
    await server.start();
  },
});

// The same contract through a key prefix: callers see short keys, the server prefixed ones.
describeStoreContract('embedded, keys under prefix "tenant-a/"', () => openStore(server.url, { prefix: 'tenant-a/', watchWaitSeconds: 5 }), {
  ttlSeconds: 2,
});
