import { beforeAll, describe, expect, it } from 'vitest';
import type { ConfigRepo } from '../../core/index.js';
import { validateRepo } from '../../schemas/index.js';
import { exampleTree, text, withChanges } from '../support/example-repo.js';
import { assertNginxInstalled, nginxTest } from '../support/nginx.js';

const GATEWAY = 'edge-gateway';
const UPSTREAMS = 'services/edge-gateway/config/conf.d/upstreams.conf.liquid';

function gatewayFiles(repo: ConfigRepo, env: string): Map<string, Uint8Array> {
  const files = repo.services.get(GATEWAY)?.files.get(env);
  if (!files) throw new Error(`no files of ${GATEWAY} in ${env}`);
  return new Map([...files].map(([path, file]) => [path, file.bytes]));
}

/** Every host the gateway's upstreams name in `env`: the hosts of the services it depends on. */
function upstreamHosts(repo: ConfigRepo, env: string): string[] {
  const dependsOn = repo.services.get(GATEWAY)?.manifest.dependsOn ?? [];
  return dependsOn.flatMap(
    (name) =>
      repo.services
        .get(name)
        ?.environments.get(env)
        ?.hosts.map((host) => host.host) ?? [],
  );
}

function validRepo(tree: ReadonlyMap<string, Uint8Array>): ConfigRepo {
  const validation = validateRepo(tree);
  expect(validation.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return validation.repo;
}

describe("the edge gateway's configuration, rendered from the service tree", () => {
  let tree: Map<string, Uint8Array>;
  beforeAll(async () => {
    assertNginxInstalled();
    tree = await exampleTree();
  });

  it.each(['dev', 'staging', 'prod'])(
    'passes a real nginx -t in %s, with every upstream host',
    async (env) => {
      const repo = validRepo(tree);
      const files = gatewayFiles(repo, env);
      const hosts = upstreamHosts(repo, env);
      const upstreams = Buffer.from(files.get('conf.d/upstreams.conf') ?? []).toString('utf8');
      expect(upstreams.match(/^\s+server /gm)).toHaveLength(hosts.length);
      expect(Buffer.from(files.get('snippets/locations.conf') ?? []).toString('utf8')).toMatch(/location \//);

      const result = await nginxTest(files, hosts);
      expect(result.output).toContain('test is successful');
      expect(result.exitCode).toBe(0);
    },
  );

  it('is refused by nginx -t when a template renders a broken directive, at the rendered line', async () => {
    const broken = withChanges(tree, {
      [UPSTREAMS]: text(tree, UPSTREAMS).replace('keepalive {{ keepalive }};', 'keepalive {{ keepalive }}'),
    });
    const repo = validRepo(broken);
    const result = await nginxTest(gatewayFiles(repo, 'prod'), upstreamHosts(repo, 'prod'));
    expect(result.exitCode).not.toBe(0);
    expect(result.output).toMatch(/\/etc\/nginx\/conf\.d\/upstreams\.conf:\d+/);
  });
});
