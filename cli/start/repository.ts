import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { type Environment, POLICY_FILE, SETTINGS_FILE, serviceManifestPath } from '../../core/index.js';
import { validateRepo } from '../../schemas/index.js';

const execFileAsync = promisify(execFile);

/** git in the person's repository, with their own configuration: what they will run there too. */
async function git(repo: string, args: readonly string[]): Promise<string> {
  return (await execFileAsync('git', ['-C', repo, ...args], { maxBuffer: 16 * 1024 * 1024 })).stdout;
}

/** The branch's commits and the repository's tags, for the banner. */
export interface RepositoryHistory {
  readonly commits: number;
  readonly lastCommit: string;
  /** Tag name → the commit it points at. */
  readonly tags: ReadonlyMap<string, string>;
}

export async function readHistory(repo: string, branch: string): Promise<RepositoryHistory> {
  const ref = `refs/heads/${branch}`;
  const [count, subject, tagLines] = await Promise.all([
    git(repo, ['rev-list', '--count', ref]),
    git(repo, ['log', '-1', '--format=%s', ref]),
    // %(*objectname) is the commit an annotated tag points at; empty for a lightweight tag.
    git(repo, ['for-each-ref', 'refs/tags', '--format=%(refname:strip=2) %(objectname) %(*objectname)']),
  ]);
  const tags = new Map<string, string>();
  for (const line of tagLines.split('\n')) {
    const [name, object, peeled] = line.split(' ');
    if (name && object) tags.set(name, peeled || object);
  }
  return { commits: Number(count.trim()), lastCommit: subject.trim(), tags };
}

/**
 * Gives a repository cairn start made an author for commits when git has none configured (a fresh
 * machine, root), so `git commit` works as the banner prints it. A configured identity is kept.
 */
export async function ensureCommitIdentity(repo: string): Promise<void> {
  try {
    await git(repo, ['config', 'user.email']);
    return;
  } catch {
    // Exit status 1: not set anywhere.
  }
  const name = userInfo().username || 'cairn';
  await git(repo, ['config', 'user.name', name]);
  await git(repo, ['config', 'user.email', `${name}@localhost`]);
}

/** The environments of the repository, and a service, environment and file to show in examples. */
export interface RepositoryOutline {
  readonly environments: readonly Environment[];
  readonly example?: { readonly service: string; readonly env: string; readonly file: string };
  /** The environment whose hosts cairn start plays with agents, and those hosts, sorted. */
  readonly played?: { readonly env: string; readonly hosts: readonly string[] };
  /**
   * Where an agent writes the example file, inside its prefix: the example service's first host in
   * the played environment and the file's path on that host (the service's directory and the file).
   */
  readonly exampleOnHost?: { readonly host: string; readonly path: string };
  /** The services of the repository. */
  readonly services: readonly string[];
}

/** The environment cairn start plays: `dev` when there is one, else the first that follows the branch. */
const PLAYED_ENVIRONMENT = 'dev';

/**
 * Reads only cairn.yaml, policy.yaml and the services' service.yaml files from the working tree
 * (a 10,000-file repository costs no more than a small one), and lists the services' config files.
 * An example prefers a YAML file, which reads best.
 */
export async function outlineRepository(repo: string): Promise<RepositoryOutline> {
  const tree = new Map<string, Uint8Array>();
  const readInto = async (path: string) => {
    try {
      tree.set(path, await readFile(join(repo, path)));
    } catch {
      // Missing: the model reports what it lacks, and the outline is smaller.
    }
  };
  await readInto(SETTINGS_FILE);
  await readInto(POLICY_FILE);
  const services = (await readdir(join(repo, 'services'), { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  await Promise.all(services.map((service) => readInto(serviceManifestPath(service))));
  const { repo: model } = validateRepo(tree);
  const environments = [...model.environments.values()];
  const followsBranch = new Set(environments.filter((env) => 'branch' in env.tracks).map((env) => env.name));

  const candidates: { service: string; env: string; file: string }[] = [];
  for (const service of model.services.values()) {
    const env = [...service.environments.keys()].find((name) => followsBranch.has(name));
    if (!env) continue;
    const files = await baseConfigFiles(join(repo, 'services', service.name, 'config'));
    for (const file of files)
      candidates.push({ service: service.name, env, file: `services/${service.name}/config/${file}` });
  }
  const example = candidates.find((candidate) => /\.ya?ml$/.test(candidate.file)) ?? candidates[0];

  const playedEnv =
    environments.find((env) => env.name === PLAYED_ENVIRONMENT && followsBranch.has(env.name)) ??
    environments.find((env) => followsBranch.has(env.name));
  const hosts = new Set<string>();
  for (const service of model.services.values())
    for (const host of service.environments.get(playedEnv?.name ?? '')?.hosts ?? []) hosts.add(host.host);
  const played = playedEnv && hosts.size > 0 ? { env: playedEnv.name, hosts: [...hosts].sort() } : undefined;
  const exampleService = example && model.services.get(example.service);
  const exampleHost = played && exampleService?.environments.get(played.env)?.hosts[0]?.host;
  const directory = exampleService?.manifest.files?.directory;
  const exampleOnHost =
    example && exampleHost && directory
      ? {
          host: exampleHost,
          path: posix.join(directory, example.file.slice(`services/${example.service}/config/`.length)),
        }
      : undefined;
  return {
    environments,
    ...(example ? { example } : {}),
    ...(played ? { played } : {}),
    ...(exampleOnHost ? { exampleOnHost } : {}),
    services: [...model.services.keys()].sort(),
  };
}

/** Config files shared by every environment (not in an `@<env>/` overlay folder), in path order. */
async function baseConfigFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .filter((path) => !path.startsWith('@'))
    .sort();
}
