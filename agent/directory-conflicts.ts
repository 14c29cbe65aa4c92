import { relative, resolve } from 'node:path';
import type { Assignment } from './assignments.js';

/**
 * Which of this host's assignments may not be kept, and why: a directory belongs to one service
 * and environment. Two assignments whose directories are the same, or one inside the other, would
 * overwrite, prune and "repair" each other's files; both are refused (whichever came first: the
 * order the service tree lists them in must not decide whose files win). A directory that holds
 * the agent's own state, or lies inside it, is refused too. By assignment key, a message that
 * names both sides and the fix.
 */
export function directoryConflicts(
  assignments: readonly Assignment[],
  stateDir: string,
): Map<string, string> {
  const refused = new Map<string, string>();
  const fix =
    'give each its own directory in service.yaml (files.directory); until then the agent writes nothing for either, and their files stay as they are';
  for (const [i, a] of assignments.entries()) {
    const directory = resolve(a.settings.directory);
    if (overlap(directory, resolve(stateDir)))
      refused.set(
        a.key,
        `files.directory ${directory} of ${a.key} overlaps the agent's state directory ${stateDir}: give the service a directory of its own in service.yaml, or start the agent with another --state-dir`,
      );
    for (const b of assignments.slice(i + 1)) {
      const other = resolve(b.settings.directory);
      if (!overlap(directory, other)) continue;
      const how = directory === other ? 'is also' : 'overlaps';
      refused.set(
        a.key,
        refused.get(a.key) ??
          `files.directory ${directory} of ${a.key} ${how} ${other}, the directory of ${b.key} on this host: ${fix}`,
      );
      refused.set(
        b.key,
        refused.get(b.key) ??
          `files.directory ${other} of ${b.key} ${how} ${directory}, the directory of ${a.key} on this host: ${fix}`,
      );
    }
  }
  return refused;
}

/** Whether two absolute, resolved paths are the same folder or one lies inside the other. */
function overlap(a: string, b: string): boolean {
  return inside(a, b) || inside(b, a);
}

function inside(parent: string, child: string): boolean {
  const path = relative(parent, child);
  return path === '' || (path !== '..' && !path.startsWith('../'));
}
