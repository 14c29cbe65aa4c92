import picomatch from 'picomatch';
import { classifyPath, type PolicyManifest, type PolicyPrincipal, type Principal } from '../../core/index.js';
import type { Approval } from './tally-reviews.js';

/** One requirement of a rule as it applies to this change: who may approve, and how many must. */
export interface ApplicableRequirement {
  readonly approvals: number;
  /** The principals as policy.yaml wrote them. */
  readonly from: readonly PolicyPrincipal[];
  /** The service whose owners `owners` stands for here; a rule spanning services applies per service. */
  readonly service?: string;
  /** `from` with `owners` resolved: the users and teams whose approvals count. */
  readonly eligible: readonly Principal[];
  /** Why nobody could meet it, when that is so (e.g. `owners` of a file outside any service). */
  readonly problem?: string;
}

export interface ApplicableRule {
  readonly rule: string;
  readonly description?: string;
  /** The changed files that made the rule apply. */
  readonly files: readonly string[];
  readonly requirements: readonly ApplicableRequirement[];
}

export interface RequirementOutcome extends ApplicableRequirement {
  /** Distinct approvers who count for this requirement. */
  readonly approvedBy: readonly Approval[];
  readonly satisfied: boolean;
}

export interface RuleOutcome {
  readonly rule: string;
  readonly description?: string;
  readonly files: readonly string[];
  readonly requirements: readonly RequirementOutcome[];
  readonly satisfied: boolean;
}

export interface PolicyEvaluation {
  readonly rules: readonly RuleOutcome[];
  /** Every applicable rule is satisfied (true when no rule applies). */
  readonly satisfied: boolean;
}

/** Owners per service; `undefined` when the service's manifest could not be read or is invalid. */
export type OwnersByService = ReadonlyMap<string, readonly Principal[] | undefined>;

/**
 * Which rules of the policy apply to a change, and whom each requirement accepts. Rules add up: every
 * rule with a glob matching a changed path applies. `owners` means the owners of the service a
 * matched file belongs to, so a rule that matches files of two services needs each service's owners.
 */
export function applicableRules(
  policy: PolicyManifest,
  changedPaths: readonly string[],
  owners: OwnersByService,
): ApplicableRule[] {
  const rules: ApplicableRule[] = [];
  for (const rule of policy.rules) {
    const matchers = rule.paths.map((glob) => picomatch(glob, { dot: true }));
    const files = changedPaths.filter((path) => matchers.some((matches) => matches(path))).sort();
    if (files.length === 0) continue;
    const requirements: ApplicableRequirement[] = [];
    for (const requirement of rule.require) {
      const base = { approvals: requirement.approvals, from: requirement.from };
      const named = requirement.from.filter((p): p is Principal => p !== 'owners');
      if (!requirement.from.includes('owners')) {
        requirements.push({ ...base, eligible: unique(named) });
        continue;
      }
      const { services, outside } = servicesOf(files);
      for (const service of services) {
        const serviceOwners = owners.get(service);
        requirements.push({
          ...base,
          service,
          eligible: unique([...(serviceOwners ?? []), ...named]),
          ...(serviceOwners === undefined
            ? {
                problem: `the owners of ${service} are unknown: services/${service}/service.yaml is missing or invalid on the base branch and at the head`,
              }
            : {}),
        });
      }
      if (outside.length > 0) {
        requirements.push({
          ...base,
          eligible: unique(named),
          ...(named.length === 0
            ? {
                problem: `\`owners\` names nobody for ${outside.map((f) => `\`${f}\``).join(', ')}: these files belong to no service; name users or teams in rule "${rule.name}"`,
              }
            : {}),
        });
      }
    }
    rules.push({
      rule: rule.name,
      ...(rule.description ? { description: rule.description } : {}),
      files,
      requirements,
    });
  }
  return rules;
}

/** The team slugs whose membership decides something: only these need a lookup. */
export function teamsIn(rules: readonly ApplicableRule[]): string[] {
  const teams = new Set<string>();
  for (const rule of rules) {
    for (const requirement of rule.requirements) {
      for (const principal of requirement.eligible)
        if (principal.startsWith('team:')) teams.add(principal.slice(5));
    }
  }
  return [...teams].sort();
}

/**
 * Counts, for each requirement, the distinct approvers it accepts. `teamMembers` holds, per team slug,
 * the lower-cased logins of approvers who are active members. Requirements are independent: one person
 * who is both an owner and an SRE meets an "owner" and an "SRE" requirement alike.
 */
export function evaluatePolicy(
  rules: readonly ApplicableRule[],
  approvals: readonly Approval[],
  teamMembers: ReadonlyMap<string, ReadonlySet<string>>,
): PolicyEvaluation {
  const outcomes = rules.map((rule): RuleOutcome => {
    const requirements = rule.requirements.map((requirement): RequirementOutcome => {
      const approvedBy = requirement.problem
        ? []
        : approvals.filter((approval) =>
            requirement.eligible.some((p) => accepts(p, approval.login, teamMembers)),
          );
      return {
        ...requirement,
        approvedBy,
        satisfied: !requirement.problem && approvedBy.length >= requirement.approvals,
      };
    });
    return {
      rule: rule.rule,
      ...(rule.description ? { description: rule.description } : {}),
      files: rule.files,
      requirements,
      satisfied: requirements.every((r) => r.satisfied),
    };
  });
  return { rules: outcomes, satisfied: outcomes.every((r) => r.satisfied) };
}

function accepts(
  principal: Principal,
  login: string,
  teamMembers: ReadonlyMap<string, ReadonlySet<string>>,
): boolean {
  const lower = login.toLowerCase();
  if (principal.startsWith('user:')) return principal.slice(5).toLowerCase() === lower;
  return teamMembers.get(principal.slice(5))?.has(lower) ?? false;
}

function servicesOf(files: readonly string[]): { services: string[]; outside: string[] } {
  const services = new Set<string>();
  const outside: string[] = [];
  for (const file of files) {
    const place = classifyPath(file);
    if (place.kind === 'settings' || place.kind === 'policy' || place.kind === 'other') outside.push(file);
    else services.add(place.service);
  }
  return { services: [...services].sort(), outside };
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
