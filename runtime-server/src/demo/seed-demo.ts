import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { validate, type Catalogue, type FlowDefinition } from '@convoflow/engine';
import { apiKeyPrefix, hashApiKey, mintApiKey } from '../auth/api-key.js';
import type { StoragePort } from '../storage/storage-port.js';

/** What seeding did: the workspace, and the admin key when one was created now. */
export interface DemoSeed {
  workspaceId: string;
  created: boolean;
  adminKey?: string;
  published: string[];
}

const DEMO_WORKSPACE_ID = 'ws_demo';

/**
 * Creates the demo workspace on an empty store: an admin API key and every example flow published.
 * Does nothing when a workspace exists already, so restarts keep what people changed. The key is
 * also written to `<dataDir>/demo-admin-key` (mode 0600) so a later start can print it again.
 *
 * @throws Error naming the example file when an example flow does not validate.
 */
export async function seedDemo(options: {
  store: StoragePort;
  catalogue: Catalogue;
  flowsDir: string;
  dataDir: string;
  adminKey?: string;
  allowPrivateNetwork: boolean;
  now: number;
}): Promise<DemoSeed> {
  const { store, now } = options;
  const keyFile = join(options.dataDir, 'demo-admin-key');
  if ((await store.workspaces.list()).length > 0) {
    const adminKey = options.adminKey ?? (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : undefined);
    return { workspaceId: DEMO_WORKSPACE_ID, created: false, ...(adminKey ? { adminKey } : {}), published: [] };
  }
  const flows = readExampleFlows(options.flowsDir, options.catalogue);
  const workspace = await store.workspaces.create({
    id: DEMO_WORKSPACE_ID,
    name: 'Demo',
    settings: { interruptKeywords: ['stop', 'menu'], allowPrivateNetwork: options.allowPrivateNetwork, timezone: 'UTC' },
  });
  const secret = options.adminKey ?? mintApiKey();
  await store.apiKeys.insert({
    id: randomUUID(),
    workspaceId: workspace.id,
    name: 'demo admin',
    role: 'admin',
    keyHash: hashApiKey(secret),
    prefix: apiKeyPrefix(secret),
    createdAt: now,
  });
  writeFileSync(keyFile, `${secret}\n`, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  const published: string[] = [];
  for (const flow of flows) {
    const record = await store.flows.create({ workspaceId: workspace.id, draft: flow, at: now });
    await store.flows.publish(workspace.id, record.id, 'demo seed', now);
    published.push(flow.name);
  }
  return { workspaceId: workspace.id, created: true, adminKey: secret, published };
}

function readExampleFlows(dir: string, catalogue: Catalogue): FlowDefinition[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.flow.json'))
    .sort()
    .map((file) => {
      const flow = JSON.parse(readFileSync(join(dir, file), 'utf8')) as FlowDefinition;
      const errors = validate(flow, catalogue).filter((d) => d.severity === 'error');
      if (errors.length > 0) {
        throw new Error(`Example flow ${file} does not validate: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`);
      }
      return flow;
    });
}
