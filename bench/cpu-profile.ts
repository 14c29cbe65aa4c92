import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/**
 * CPU profiles of chosen stretches of the bench's own process (one fan-out change each), written
 * to `CAIRN_BENCH_CPU_PROF=<dir>` as `<name>.cpuprofile` for Chrome's DevTools; nothing without it.
 * `node --cpu-prof` profiles a whole run, where connecting thousands of clients drowns the change.
 */
export async function cpuProfiler(): Promise<{
  start(): Promise<void>;
  stop(name: string): Promise<void>;
  close(): void;
}> {
  const dir = process.env.CAIRN_BENCH_CPU_PROF;
  if (!dir) return { start: async () => undefined, stop: async () => undefined, close: () => undefined };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  return {
    async start() {
      await session.post('Profiler.start');
    },
    async stop(name: string) {
      const { profile } = await session.post('Profiler.stop');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    },
    close() {
      session.disconnect();
    },
  };
}
