import { describe, expect, it } from 'vitest';
import type { PolicyManifest } from '../manifests.js';
import { steeringGrantsOf, steeringRefusal } from './steering-policy.js';

const policy = (deployments?: PolicyManifest['deployments']): PolicyManifest => ({
  apiVersion: 'cairn/v1',
  rules: [{ name: 'any', paths: ['**'], require: [{ approvals: 1, from: ['owners'] }] }],
  ...(deployments ? { deployments } : {}),
});

const search = { name: 'search-api', owners: ['team:search', 'user:tomas-novak'] };

describe('steering policy', () => {
  it('leaves every deployment open to anyone when policy.yaml has no deployments section', () => {
    const grants = steeringGrantsOf(policy(), search, ['prod']);
    expect(grants).toBeUndefined();
    expect(steeringRefusal(grants, 'prod', 'abort', 'anyone')).toBeUndefined();
  });

  it('covers the environments whose release manifest a rule matches, with owners resolved to users', () => {
    const grants = steeringGrantsOf(
      policy([
        {
          name: 'prod-steering',
          paths: ['services/*/releases/prod.yaml'],
          actions: ['resume', 'abort'],
          from: ['owners', 'user:ines-ortega'],
        },
      ]),
      search,
      ['staging', 'prod', 'prod'],
    );
    expect(grants).toEqual([
      {
        env: 'prod',
        rule: 'prod-steering',
        actions: ['resume', 'abort'],
        from: ['user:ines-ortega', 'user:tomas-novak'],
      },
    ]);
    expect(steeringRefusal(grants, 'prod', 'abort', 'tomas-novak')).toBeUndefined();
    expect(steeringRefusal(grants, 'prod', 'abort', 'user:Ines-Ortega')).toBeUndefined();
    // Not governed by the rule: open.
    expect(steeringRefusal(grants, 'prod', 'pause', 'mallory')).toBeUndefined();
    // Not covered: open.
    expect(steeringRefusal(grants, 'staging', 'abort', 'mallory')).toBeUndefined();
    expect(steeringRefusal(grants, 'prod', 'resume', 'mallory')).toEqual({
      code: 'CONTROL_NOT_ALLOWED',
      rule: 'prod-steering',
      allowed: ['user:ines-ortega', 'user:tomas-novak'],
      message:
        'mallory may not resume: policy.yaml\'s deployments rule "prod-steering" allows user:ines-ortega, user:tomas-novak',
    });
  });

  it('needs every rule that governs an action to name the actor (rules add up)', () => {
    const grants = steeringGrantsOf(
      policy([
        { name: 'all-releases', paths: ['services/**'], from: ['owners', 'user:ines-ortega'] },
        {
          name: 'prod-abort',
          paths: ['services/*/releases/prod.yaml'],
          actions: ['abort'],
          from: ['user:ines-ortega'],
        },
      ]),
      search,
      ['prod'],
    );
    expect(steeringRefusal(grants, 'prod', 'pause', 'tomas-novak')).toBeUndefined();
    expect(steeringRefusal(grants, 'prod', 'abort', 'tomas-novak')?.rule).toBe('prod-abort');
    expect(steeringRefusal(grants, 'prod', 'abort', 'ines-ortega')).toBeUndefined();
  });

  it('lets nobody act when owners names no user', () => {
    const grants = steeringGrantsOf(
      policy([{ name: 'owners-only', paths: ['services/**'], from: ['owners'] }]),
      { name: 'edge', owners: ['team:edge'] },
      ['prod'],
    );
    expect(steeringRefusal(grants, 'prod', 'pause', 'dana')?.message).toBe(
      'dana may not pause: policy.yaml\'s deployments rule "owners-only" allows nobody (the rule names no user)',
    );
  });
});
