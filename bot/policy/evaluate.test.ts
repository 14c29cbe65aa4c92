import { describe, expect, it } from 'vitest';
import type { PolicyManifest, Principal } from '../../core/index.js';
import { applicableRules, evaluatePolicy, teamsIn } from './evaluate.js';
import type { Approval } from './tally-reviews.js';

const HEAD = 'h'.repeat(40);
const approval = (login: string): Approval => ({
  login,
  approvedSha: HEAD,
  submittedAt: '2024-12-09T10:00:00Z',
});

// The rules of example-config-repo/policy.yaml that these cases exercise.
const policy: PolicyManifest = {
  apiVersion: 'cairn/v1',
  rules: [
    { name: 'service-owners', paths: ['services/**'], require: [{ approvals: 1, from: ['owners'] }] },
    {
      name: 'prod-config',
      paths: ['services/*/config/@prod/**'],
      require: [{ approvals: 2, from: ['owners'] }],
    },
    {
      name: 'prod-releases',
      paths: ['services/*/releases/prod.yaml'],
      require: [
        { approvals: 1, from: ['owners'] },
        { approvals: 1, from: ['team:sre'] },
      ],
    },
    {
      name: 'repo-settings',
      paths: ['cairn.yaml', 'policy.yaml'],
      require: [{ approvals: 1, from: ['team:platform'] }],
    },
  ],
};
const owners = new Map<string, readonly Principal[] | undefined>([
  ['search-api', ['team:search', 'user:tomas-novak']],
  ['recommender', ['user:priya-raman']],
]);
const teams = new Map([
  ['search', new Set(['sofia'])],
  ['sre', new Set(['sam'])],
  ['platform', new Set(['pat'])],
]);

function evaluate(paths: string[], approvers: string[], ownersByService = owners) {
  return evaluatePolicy(applicableRules(policy, paths, ownersByService), approvers.map(approval), teams);
}

describe('policy evaluation', () => {
  it('requires nothing when no rule matches', () => {
    expect(evaluate(['README.md'], [])).toEqual({ rules: [], satisfied: true });
  });

  it('needs two owners for a prod config change, through users or teams', () => {
    const paths = ['services/search-api/config/@prod/application.properties'];
    expect(evaluate(paths, ['tomas-novak']).satisfied).toBe(false);
    expect(evaluate(paths, ['tomas-novak', 'sam']).satisfied).toBe(false);
    const done = evaluate(paths, ['tomas-novak', 'sofia']);
    expect(done.satisfied).toBe(true);
    expect(
      done.rules.map((r) => [r.rule, r.requirements.map((q) => q.approvedBy.map((a) => a.login))]),
    ).toEqual([
      ['service-owners', [['tomas-novak', 'sofia']]],
      ['prod-config', [['tomas-novak', 'sofia']]],
    ]);
  });

  it('needs an owner and an SRE for a release', () => {
    const paths = ['services/search-api/releases/prod.yaml'];
    expect(evaluate(paths, ['sam']).satisfied).toBe(false);
    expect(evaluate(paths, ['tomas-novak']).satisfied).toBe(false);
    expect(evaluate(paths, ['tomas-novak', 'sam']).satisfied).toBe(true);
  });

  it("needs each touched service's own owners", () => {
    const paths = ['services/search-api/config/a.yaml', 'services/recommender/config/b.yaml'];
    const result = evaluate(paths, ['tomas-novak']);
    expect(result.rules[0]?.requirements.map((r) => [r.service, r.satisfied])).toEqual([
      ['recommender', false],
      ['search-api', true],
    ]);
    expect(evaluate(paths, ['tomas-novak', 'priya-raman']).satisfied).toBe(true);
  });

  it('cannot be met when a service has no readable owners, and says why', () => {
    const result = evaluate(
      ['services/new-svc/config/a.yaml'],
      ['tomas-novak'],
      new Map([['new-svc', undefined]]),
    );
    expect(result.satisfied).toBe(false);
    expect(result.rules[0]?.requirements[0]?.problem).toContain('owners of new-svc are unknown');
  });

  it('cannot be met when `owners` is asked of a file outside every service', () => {
    const outside: PolicyManifest = {
      apiVersion: 'cairn/v1',
      rules: [{ name: 'everything', paths: ['**'], require: [{ approvals: 1, from: ['owners'] }] }],
    };
    const [rule] = applicableRules(outside, ['cairn.yaml'], owners);
    expect(rule?.requirements[0]?.problem).toContain('`owners` names nobody for `cairn.yaml`');
  });

  it('matches dot files, as the validator does', () => {
    expect(evaluate(['services/search-api/config/.env'], []).rules.map((r) => r.rule)).toEqual([
      'service-owners',
    ]);
  });

  it('lists the teams whose membership matters, and only those', () => {
    expect(teamsIn(applicableRules(policy, ['services/search-api/releases/prod.yaml'], owners))).toEqual([
      'search',
      'sre',
    ]);
    expect(teamsIn(applicableRules(policy, ['services/recommender/config/x.yaml'], owners))).toEqual([]);
  });
});
