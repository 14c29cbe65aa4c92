import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../atomic-file.js';

/** What a host runs of a service in an environment, as its agent deployed it. */
export interface DeployedVersion {
  readonly version: string;
  readonly deployment: string;
  readonly at: string;
}

/**
 * The versions this host runs, kept in the agent's state directory: a task for a version the host
 * already runs succeeds without running anything, and CAIRN_PREVIOUS_VERSION says what it ran.
 */
export class DeployedVersions {
  private readonly path: string;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(stateDir: string) {
    this.path = join(stateDir, 'deployed-versions.json');
  }

  async get(key: string): Promise<DeployedVersion | undefined> {
    return (await this.readAll())[key];
  }

  /** Records a version; writes one at a time, each atomically. */
  async set(key: string, version: DeployedVersion): Promise<void> {
    const write = this.writing.then(async () => {
      const all = { ...(await this.readAll()), [key]: version };
      await mkdir(join(this.path, '..'), { recursive: true });
      await writeAtomically(this.path, Buffer.from(`${JSON.stringify(all, null, 2)}\n`), { mode: 0o600 });
    });
    this.writing = write.catch(() => {
      // Reported by the caller of set(); the next write starts afresh.
    });
    await write;
  }

  private async readAll(): Promise<Record<string, DeployedVersion>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, DeployedVersion>) : {};
    } catch {
      // A damaged file means the agent does not know what runs: every task runs its command.
      return {};
    }
  }
}
