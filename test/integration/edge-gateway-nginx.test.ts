import { beforeAll, describe, expect, it } from 'vitest';
import { type ConfigRepo, decodeEnvironmentManifest, drainedSnapshotsOf } from '../../core/index.js';
import { checkManifest, validateRepo } from '../../schemas/index.js';
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

  it.each(['dev', 'prod'])(
    'passes a real nginx -t in %s with the first host of every upstream draining, each of them down',
    async (env) => {
      const repo = validRepo(tree);
      const dependsOn = repo.services.get(GATEWAY)?.manifest.dependsOn ?? [];
      const draining = new Map(
        dependsOn.map((name) => [
          name,
          new Set(
            repo.services
              .get(name)
              ?.environments.get(env)
              ?.hosts.slice(0, 1)
              .map((h) => h.host),
          ),
        ]),
      );
      const { snapshots, failures } = drainedSnapshotsOf({ tree, checkManifest, env, draining });
      expect(failures.size).toBe(0);
      const snapshot = snapshots.get(GATEWAY);
      if (!snapshot) throw new Error('the gateway has no drained snapshot');
      const manifest = decodeEnvironmentManifest(snapshot.contents.get(snapshot.manifestId) as Uint8Array);
      const files = new Map(
        [...manifest.files].map(([path, id]) => [path, snapshot.contents.get(id) as Uint8Array]),
      );
      const upstreams = Buffer.from(files.get('conf.d/upstreams.conf') ?? []).toString('utf8');
      for (const host of [...draining.values()].flatMap((hosts) => [...hosts]))
        expect(upstreams).toMatch(
          new RegExp(`server ${host.replaceAll('.', '\\.')}:\\d+ down;.*\\(draining: deploying\\)`),
        );
      expect(upstreams.match(/ down;/g)?.length).toBeGreaterThanOrEqual(dependsOn.length);

      const result = await nginxTest(files, upstreamHosts(repo, env));
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
