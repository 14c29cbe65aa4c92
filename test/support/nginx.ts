import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const NGINX = '/usr/sbin/nginx';
/** The user nginx runs as when the tests run as root: nobody, so that nginx -t runs unprivileged. */
const NOBODY = 65534;

export interface NginxTestResult {
  readonly exitCode: number | null;
  /** nginx's own report: "syntax is ok", "test is successful", or the error at file:line. */
  readonly output: string;
}

/** Fails with what to install when the Debian package nginx is missing, so no test skips silently. */
export function assertNginxInstalled(): void {
  if (!existsSync(NGINX)) {
    throw new Error(
      `${NGINX} is missing: install the Debian package nginx (sudo bash scripts/install-system-deps.sh --tests, or sudo apt-get install -y nginx)`,
    );
  }
}

/**
 * Runs `nginx -t` on `files` (paths under /etc/nginx, as an agent writes them) without touching the
 * machine: nginx reads /etc/nginx/nginx.conf with its absolute includes, logs, temp folders and pid
 * file as in production, yet every one of those paths is a folder of a temp dir bind-mounted over it
 * in a mount namespace of its own. `hosts` resolve through a temp /etc/hosts mounted the same way:
 * nginx resolves every upstream server name when it loads its configuration, and the example's
 * hosts exist nowhere. A network namespace of its own lets it bind port 80 unprivileged and keeps
 * it off the machine's ports. nginx itself runs as an unprivileged user, never as root, and exits:
 * `-t` starts no daemon.
 */
export async function nginxTest(
  files: ReadonlyMap<string, Uint8Array>,
  hosts: readonly string[],
): Promise<NginxTestResult> {
  assertNginxInstalled();
  const dir = await mkdtemp(join(tmpdir(), 'cairn-nginx-'));
  try {
    const etc = join(dir, 'etc-nginx');
    for (const folder of ['etc-nginx', 'log', 'lib', 'run']) await mkdir(join(dir, folder));
    for (const [path, bytes] of files) {
      await mkdir(dirname(join(etc, path)), { recursive: true });
      await writeFile(join(etc, path), bytes);
    }
    // Shipped by the nginx package, not by Cairn: nginx.conf includes it from /etc/nginx.
    if (!files.has('mime.types')) await copyFile('/etc/nginx/mime.types', join(etc, 'mime.types'));
    const lines = hosts.map((host, index) => `192.0.2.${(index % 250) + 1} ${host}`);
    await writeFile(join(dir, 'hosts'), `127.0.0.1 localhost\n::1 localhost\n${lines.join('\n')}\n`);

    const asRoot = process.getuid?.() === 0;
    if (asRoot) await chownTree(dir, NOBODY);
    const mounts = [
      'mount --bind "$1/hosts" /etc/hosts',
      'mount --bind "$1/etc-nginx" /etc/nginx',
      'mount --bind "$1/log" /var/log/nginx',
      'mount --bind "$1/lib" /var/lib/nginx',
      'mount --bind "$1/run" /run',
      // Port 80 of the namespace's own network, for a user that is not root.
      'echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start',
      // Not root even inside the namespace: nginx then changes no owner of its temp folders.
      `exec unshare --user --map-user=${NOBODY} --map-group=${NOBODY} -- ${NGINX} -t -c /etc/nginx/nginx.conf`,
    ].join(' && ');
    const command = [
      'unshare',
      '--user',
      '--map-root-user',
      '--mount',
      '--net',
      '--',
      'sh',
      '-c',
      mounts,
      'sh',
      dir,
    ];
    const argv = asRoot
      ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', ...command]
      : command;
    return await run(argv);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function chownTree(path: string, id: number): Promise<void> {
  await chown(path, id, id);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.isDirectory()) await chownTree(join(path, entry.name), id);
    else await chown(join(path, entry.name), id, id);
  }
}

function run(argv: readonly string[]): Promise<NginxTestResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, output });
    });
  });
}
