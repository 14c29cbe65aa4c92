import picomatch from 'picomatch';
import type { PolicyManifest, SteeringAction } from '../manifests.js';
import { CONTROL_ACTIONS } from '../records/deployment-control-record.js';
import { releaseManifestPath } from '../repo-layout.js';

/**
 * A rule of policy.yaml's `deployments` section as it applies to one service's environment:
 * `owners` already resolved to the service's users, so the controller and the command line decide
 * from the service record alone.
 */
export interface SteeringGrant {
  readonly env: string;
  readonly rule: string;
  readonly actions: readonly SteeringAction[];
  /** `user:<login>` principals; empty when the rule names nobody who can act (then nobody may). */
  readonly from: readonly string[];
}

/** A service's steering grants; an environment no grant names is open to anyone. */
export type SteeringGrants = readonly SteeringGrant[];

export interface SteeringRefusal {
  /** Stable, for logs and callers: the actor is not allowed by the named rule. */
  readonly code: 'CONTROL_NOT_ALLOWED';
  readonly rule: string;
  /** Who the rule allows (`user:<login>`). */
  readonly allowed: readonly string[];
  readonly message: string;
}

/**
 * The grants of a service's environments, or undefined when the policy has no `deployments`
 * section: then anyone who may write to ZooKeeper steers, as before the section existed, so a
 * repository that never wrote one loses nothing. A rule covers an environment when one of its globs
 * matches the environment's release manifest path. `owners` stands for the service's owners that
 * are users; team owners are not resolved, because neither the command line nor the controller
 * can ask GitHub who is in a team.
 */
export function steeringGrantsOf(
  policy: PolicyManifest | undefined,
  service: { readonly name: string; readonly owners: readonly string[] },
  envs: Iterable<string>,
): SteeringGrants | undefined {
  const rules = policy?.deployments;
  if (!rules) return undefined;
  const ownerUsers = service.owners.filter((owner) => owner.startsWith('user:'));
  const grants: SteeringGrant[] = [];
  for (const env of [...new Set(envs)].sort()) {
    const path = releaseManifestPath(service.name, env);
    for (const rule of rules) {
      if (!rule.paths.some((glob) => picomatch(glob, { dot: true })(path))) continue;
      const from = rule.from.flatMap((principal) => (principal === 'owners' ? ownerUsers : [principal]));
      grants.push({
        env,
        rule: rule.name,
        actions: rule.actions ? [...rule.actions] : [...CONTROL_ACTIONS],
        from: [...new Set(from)].sort(),
      });
    }
  }
  return grants;
}

/**
 * Why `actor` may not take `action` on a deployment of `env`, or undefined when they may. Rules add up, as approval rules
 * do: every grant that governs the action must name the actor; no grant governing it leaves the
 * action open. An actor is a login, with or without `user:`, compared as GitHub compares logins
 * (ignoring case).
 */
export function steeringRefusal(
  grants: SteeringGrants | undefined,
  env: string,
  action: SteeringAction,
  actor: string,
): SteeringRefusal | undefined {
  const login = (actor.startsWith('user:') ? actor.slice(5) : actor).toLowerCase();
  for (const grant of grants ?? []) {
    if (grant.env !== env || !grant.actions.includes(action)) continue;
    if (grant.from.some((principal) => principal.slice(5).toLowerCase() === login)) continue;
    const who = grant.from.length > 0 ? grant.from.join(', ') : 'nobody (the rule names no user)';
    return {
      code: 'CONTROL_NOT_ALLOWED',
      rule: grant.rule,
      allowed: grant.from,
      message: `${actor} may not ${action}: policy.yaml's deployments rule "${grant.rule}" allows ${who}`,
    };
  }
  return undefined;
}
