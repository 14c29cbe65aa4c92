import type { ZkLayout, ZkSession } from '../../core/index.js';

/** Creates the fixed folders of the layout; idempotent, run once per session before any sync. */
export async function ensureLayout(session: ZkSession, layout: ZkLayout): Promise<void> {
  for (const path of [
    layout.configDir(),
    layout.servicesDir(),
    layout.releasesDir(),
    layout.historyDir(),
    layout.syncersDir(),
    layout.agentsDir(),
  ]) {
    await session.mkdirp(path);
  }
}
