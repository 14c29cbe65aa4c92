import { findAclDrift, formatAcl, readAclPolicy, type ZkLayout, type ZkSession } from '../../core/index.js';

/** What `cairn acl check` found: whether the root is under access control, and every node that strays. */
export interface AclCheckReport {
  readonly root: string;
  readonly controlled: boolean;
  readonly checked: number;
  readonly drift: readonly { readonly path: string; readonly actual: string; readonly expected: string }[];
}

export async function checkAcl(session: ZkSession, layout: ZkLayout): Promise<AclCheckReport> {
  const policy = await readAclPolicy(session, layout);
  if (!policy) return { root: layout.root, controlled: false, checked: 0, drift: [] };
  const { checked, drift } = await findAclDrift(session, policy);
  return {
    root: layout.root,
    controlled: true,
    checked,
    drift: drift.map(({ path, actual, expected }) => ({
      path,
      actual: formatAcl(actual),
      expected: formatAcl(expected),
    })),
  };
}

export function formatAclCheck(report: AclCheckReport): string {
  if (!report.controlled)
    return `${report.root} is not under access control: every node is open to anyone who reaches ZooKeeper. Run cairn acl init.\n`;
  if (report.drift.length === 0)
    return `every node under ${report.root} has the ACL of its policy (${report.checked} checked)\n`;
  const lines = [
    `${report.drift.length} of ${report.checked} nodes under ${report.root} differ from the access policy:`,
  ];
  for (const { path, actual, expected } of report.drift)
    lines.push(path, `  is:        ${actual}`, `  should be: ${expected}`);
  lines.push('The syncer gives them their policy ACL again on its next pass.');
  return `${lines.join('\n')}\n`;
}
