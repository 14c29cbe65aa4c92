import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from '../core/index.js';
import { exampleTree, lineOf, text, withChanges } from '../test/support/example-repo.js';
import { MANIFEST_SCHEMAS } from './manifest-checker.js';
import { validateRepo } from './validate-repo.js';

const SERVICE = 'services/recommender/service.yaml';
const RELEASE = 'services/recommender/releases/prod.yaml';
const APP = 'services/recommender/config/application.yaml';
const UPSTREAMS = 'services/edge-gateway/config/conf.d/upstreams.conf.liquid';

let tree: Map<string, Uint8Array>;
beforeAll(async () => {
  tree = await exampleTree();
});

/** Replaces the first occurrence of `from` in a file of the example repository. */
function edit(path: string, from: string, to: string): Record<string, string> {
  const source = text(tree, path);
  if (!source.includes(from)) throw new Error(`${JSON.stringify(from)} not in ${path}`);
  return { [path]: source.replace(from, to) };
}

function errorsOf(changes: Record<string, string | Uint8Array | null>): Diagnostic[] {
  return validateRepo(withChanges(tree, changes)).diagnostics.filter((d) => d.severity === 'error');
}

describe('the example config repository', () => {
  it('is valid, without a single warning', () => {
    expect(validateRepo(tree).diagnostics).toEqual([]);
  });

  it('has schemas that are themselves valid draft 2020-12 and strict', () => {
    for (const schema of Object.values(MANIFEST_SCHEMAS)) {
      const ajv = new Ajv2020({ strict: true, validateFormats: false });
      expect(() => ajv.compile(schema)).not.toThrow();
    }
  });
});

describe('seeded mistakes are reported at the right file, line and rule', () => {
  const cases: {
    name: string;
    changes: () => Record<string, string | Uint8Array | null>;
    file: string;
    line: () => number;
    rule: string;
    message?: RegExp;
  }[] = [
    {
      name: 'an unknown key in service.yaml',
      changes: () => edit(SERVICE, 'port: 8080\n', 'port: 8080\ncolour: blue\n'),
      file: SERVICE,
      line: () => lineOf(text(tree, SERVICE), 'port: 8080') + 1,
      rule: 'schema/additionalProperties',
      message: /unknown key "colour"; allowed keys: apiVersion, description/,
    },
    {
      name: 'a wrong type',
      changes: () => edit(SERVICE, 'port: 8080', 'port: eighty'),
      file: SERVICE,
      line: () => lineOf(text(tree, SERVICE), 'port: 8080'),
      rule: 'schema/type',
      message: /port: must be integer, not string "eighty"/,
    },
    {
      name: 'a missing required key',
      changes: () => edit(RELEASE, 'apiVersion: cairn/v1\n', ''),
      file: RELEASE,
      // The map starts where apiVersion was: the line of the first remaining key.
      line: () => lineOf(text(tree, RELEASE), 'apiVersion: '),
      rule: 'schema/required',
    },
    {
      name: 'a value outside its enum',
      changes: () => edit(SERVICE, 'loadBalancing: consistent-hash', 'loadBalancing: random'),
      file: SERVICE,
      line: () => lineOf(text(tree, SERVICE), 'loadBalancing: consistent-hash'),
      rule: 'schema/enum',
    },
    {
      name: 'an environment tracking both a branch and a tag',
      changes: () => edit('cairn.yaml', '      tag: "v*"', '      tag: "v*"\n      branch: main'),
      file: 'cairn.yaml',
      line: () => lineOf(text(tree, 'cairn.yaml'), 'tag: "v*"') - 1,
      rule: 'schema/oneOf',
    },
    {
      name: 'a duplicate YAML key',
      changes: () => edit(APP, '  port: 8080\n', '  port: 8080\n  port: 8081\n'),
      file: APP,
      line: () => lineOf(text(tree, APP), '  port: 8080') + 1,
      rule: 'yaml/duplicate-key',
    },
    {
      name: 'malformed JSON',
      changes: () => ({ 'services/recommender/config/feature-flags.json': '{\n  "a": true,\n  "b": \n}\n' }),
      file: 'services/recommender/config/feature-flags.json',
      line: () => 4,
      rule: 'json/syntax',
    },
    {
      name: 'malformed TOML',
      changes: () => ({ 'services/search-api/config/ranking.toml': 'title = "x"\n[weights\nbm25 = 1.0\n' }),
      file: 'services/search-api/config/ranking.toml',
      line: () => 2,
      rule: 'toml/syntax',
    },
    {
      name: 'malformed properties',
      changes: () => ({ 'services/search-api/config/application.properties': 'a=1\nb=\\uXYZW\n' }),
      file: 'services/search-api/config/application.properties',
      line: () => 2,
      rule: 'properties/syntax',
    },
    {
      name: 'a malformed INI line',
      changes: () => ({
        'services/nightly-reports/config/reports.ini': '[report]\nname = daily\nnot a pair\n',
      }),
      file: 'services/nightly-reports/config/reports.ini',
      line: () => 3,
      rule: 'ini/syntax',
    },
    {
      name: 'an overlay without a base',
      changes: () => ({ 'services/recommender/config/@prod/tuning.yaml': 'a: 1\n' }),
      file: 'services/recommender/config/@prod/tuning.yaml',
      line: () => 1,
      rule: 'overlay/no-base',
    },
    {
      name: 'an overlay for an unknown environment',
      changes: () => ({ 'services/recommender/config/@qa/application.yaml': 'a: 1\n' }),
      file: 'services/recommender/config/@qa/application.yaml',
      line: () => 1,
      rule: 'env/unknown',
      message: /unknown environment "qa": cairn.yaml declares "dev", "staging", "prod"/,
    },
    {
      name: 'an unknown environment in service.yaml',
      changes: () => edit(SERVICE, '  dev:\n', '  qa:\n    hosts: []\n  dev:\n'),
      file: SERVICE,
      line: () => lineOf(text(tree, SERVICE), '  dev:\n'),
      rule: 'env/unknown',
    },
    {
      name: 'a release for an environment the service does not run in',
      changes: () => ({
        ...edit(
          'services/nightly-reports/service.yaml',
          '  dev:\n    hosts:\n      - host: reports-dev-01.dc1.northwind.internal\n',
          '',
        ),
        'services/nightly-reports/config/@dev/reports.ini': null,
        'services/nightly-reports/releases/dev.yaml': text(
          tree,
          'services/nightly-reports/releases/staging.yaml',
        ),
      }),
      file: 'services/nightly-reports/releases/dev.yaml',
      line: () => 1,
      rule: 'env/not-deployed',
    },
    {
      name: 'an unknown service in dependsOn',
      changes: () =>
        edit(
          'services/edge-gateway/service.yaml',
          'dependsOn: [search-api, recommender]',
          'dependsOn: [search-api, recommendr]',
        ),
      file: 'services/edge-gateway/service.yaml',
      line: () => lineOf(text(tree, 'services/edge-gateway/service.yaml'), 'dependsOn:'),
      rule: 'service/unknown',
    },
    {
      name: 'a route that is not a URL path',
      changes: () =>
        edit('services/search-api/service.yaml', 'routes: [/v2/search]', 'routes: [/v2/search, "v2/{x}"]'),
      file: 'services/search-api/service.yaml',
      line: () => lineOf(text(tree, 'services/search-api/service.yaml'), 'routes:'),
      rule: 'schema/pattern',
    },
    {
      name: 'an unknown variable in a template',
      changes: () => edit(UPSTREAMS, '{{ upstream.port }}', '{{ upstream.ports }}'),
      file: UPSTREAMS,
      line: () => lineOf(text(tree, UPSTREAMS), '{{ upstream.port }}'),
      rule: 'template/unknown-variable',
      message: /unknown variable "upstream\.ports".*\(rendering for dev, staging, prod\)$/,
    },
    {
      name: 'a template that cannot be parsed',
      changes: () => edit(UPSTREAMS, '{%- endfor %}\n    keepalive', '{%- endfro %}\n    keepalive'),
      file: UPSTREAMS,
      line: () => lineOf(text(tree, UPSTREAMS), '{%- endfor %}\n    keepalive'),
      rule: 'template/syntax',
    },
    {
      name: 'a template and a plain file that make the same file',
      changes: () => ({ 'services/edge-gateway/config/conf.d/upstreams.conf': '# by hand\n' }),
      file: UPSTREAMS,
      line: () => 1,
      rule: 'template/clash',
    },
    {
      name: 'a host listed twice',
      changes: () =>
        edit(SERVICE, 'rec-prod-02.dc1.northwind.internal', 'rec-prod-01.dc1.northwind.internal'),
      file: SERVICE,
      line: () => lineOf(text(tree, SERVICE), 'rec-prod-02.dc1.northwind.internal'),
      rule: 'service/duplicate-host',
    },
    {
      name: 'a canary as large as the environment',
      changes: () => edit(RELEASE, '    hosts: 1\n', '    hosts: 12\n'),
      file: RELEASE,
      line: () => lineOf(text(tree, RELEASE), '    hosts: 1\n'),
      rule: 'release/unsatisfiable',
      message: /canary of 12 host\(s\) needs more hosts than the 12/,
    },
    {
      name: 'a file too large for ZooKeeper',
      changes: () => ({ 'services/recommender/config/catalogue.txt': 'x'.repeat(600_000) }),
      file: 'services/recommender/config/catalogue.txt',
      line: () => 1,
      rule: 'file/too-large',
      message: /600000 bytes, over the limit of 524288 .*jute.maxbuffer/,
    },
    {
      name: 'an unsafe path',
      changes: () => ({ 'services/recommender/config/bad\u0001name.yaml': 'a: 1\n' }),
      file: 'services/recommender/config/bad\u0001name.yaml',
      line: () => 1,
      rule: 'path/unsafe',
    },
    {
      name: 'binary content in a YAML file',
      changes: () => ({
        [APP]: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      }),
      file: APP,
      line: () => 1,
      rule: 'file/not-text',
    },
    {
      name: 'an empty service.yaml',
      changes: () => ({ [SERVICE]: '' }),
      file: SERVICE,
      line: () => 1,
      rule: 'file/empty',
    },
    {
      name: 'an empty JSON file',
      changes: () => ({ 'services/recommender/config/feature-flags.json': '' }),
      file: 'services/recommender/config/feature-flags.json',
      line: () => 1,
      rule: 'json/syntax',
    },
    {
      name: 'a missing cairn.yaml',
      changes: () => ({ 'cairn.yaml': null }),
      file: 'cairn.yaml',
      line: () => 1,
      rule: 'repo/missing-settings',
    },
    {
      name: 'a service without service.yaml',
      changes: () => ({ 'services/payments/config/app.yaml': 'a: 1\n' }),
      file: 'services/payments/config/app.yaml',
      line: () => 1,
      rule: 'service/missing-manifest',
    },
    {
      name: 'an invalid principal in policy.yaml',
      changes: () => edit('policy.yaml', 'team:sre', 'sre-team'),
      file: 'policy.yaml',
      line: () => lineOf(text(tree, 'policy.yaml'), 'team:sre'),
      rule: 'schema/pattern',
    },
    {
      name: 'a team among who may steer deployments (nobody could check its members)',
      changes: () => edit('policy.yaml', 'from: [owners, user:ines-ortega]', 'from: [owners, team:sre]'),
      file: 'policy.yaml',
      line: () => lineOf(text(tree, 'policy.yaml'), 'from: [owners, user:ines-ortega]'),
      rule: 'schema/pattern',
    },
    {
      name: 'a deployments rule name used twice',
      changes: () => ({
        'policy.yaml': `${text(tree, 'policy.yaml')}  - name: prod-steering\n    paths: ["services/*/releases/staging.yaml"]\n    from: [owners]\n`,
      }),
      file: 'policy.yaml',
      line: () => text(tree, 'policy.yaml').split('\n').length,
      rule: 'policy/duplicate-rule',
    },
    {
      name: 'an unknown deployment action in policy.yaml',
      changes: () => edit('policy.yaml', 'actions: [resume,', 'actions: [restart,'),
      file: 'policy.yaml',
      line: () => lineOf(text(tree, 'policy.yaml'), 'actions: [resume,'),
      rule: 'schema/enum',
    },
    {
      name: 'a setting of policy.yaml that is not a boolean',
      changes: () => edit('policy.yaml', 'keepOnUnchangedTree: true', 'keepOnUnchangedTree: sometimes'),
      file: 'policy.yaml',
      line: () => lineOf(text(tree, 'policy.yaml'), 'keepOnUnchangedTree'),
      rule: 'schema/type',
    },
  ];

  it.each(cases)('$name', ({ changes, file, line, rule, message }) => {
    const errors = errorsOf(changes());
    expect(errors).toEqual([expect.objectContaining({ file, line: line(), rule })]);
    if (message) expect(errors[0]?.message).toMatch(message);
  });
});

describe('the validator never throws', () => {
  it('on random bytes in every kind of file', () => {
    const junk = new Uint8Array(4096).map((_, i) => (i * 7919 + 13) % 256);
    for (const path of [
      'cairn.yaml',
      'policy.yaml',
      SERVICE,
      RELEASE,
      APP,
      'services/search-api/config/ranking.toml',
      'services/search-api/config/application.properties',
    ]) {
      const result = validateRepo(withChanges(tree, { [path]: junk }));
      expect(result.diagnostics.some((d) => d.file === path && d.severity === 'error')).toBe(true);
    }
  });

  it('on a tree with nothing in it', () => {
    expect(validateRepo(new Map()).diagnostics).toEqual([
      expect.objectContaining({ rule: 'repo/missing-settings' }),
    ]);
  });

  it('on YAML of the wrong shape in a manifest (a list instead of a map)', () => {
    const errors = errorsOf({ [SERVICE]: '- a\n- b\n' });
    expect(errors).toEqual([expect.objectContaining({ file: SERVICE, rule: 'schema/type', line: 1 })]);
  });
});

describe('warnings never block', () => {
  it('warns about a file that is not part of the layout', () => {
    const { diagnostics } = validateRepo(withChanges(tree, { 'services/recommender/notes.txt': 'todo\n' }));
    expect(diagnostics).toEqual([
      expect.objectContaining({ rule: 'layout/stray-file', severity: 'warning' }),
    ]);
  });

  it('warns about a policy glob that matches nothing', () => {
    const source = text(tree, 'policy.yaml');
    const { diagnostics } = validateRepo(
      withChanges(tree, {
        'policy.yaml': source.replace('services/*/releases/prod.yaml', 'services/*/release/prod.yaml'),
      }),
    );
    expect(diagnostics.map((d) => d.rule)).toContain('policy/unmatched-glob');
    expect(diagnostics.every((d) => d.severity === 'warning')).toBe(true);
  });

  it('warns when configuration rides a release the environment does not have', () => {
    const file = 'services/nightly-reports/service.yaml';
    const source = text(tree, file);
    const riding = source.replace(
      '  dev:\n    hosts:\n',
      '  dev:\n    configRollout: with-release\n    hosts:\n',
    );
    expect(riding).not.toBe(source);
    const { diagnostics } = validateRepo(withChanges(tree, { [file]: riding }));
    expect(diagnostics).toEqual([
      expect.objectContaining({
        file,
        rule: 'release/config-without-release',
        severity: 'warning',
        line: lineOf(riding, 'configRollout: with-release'),
      }),
    ]);
    // With a release manifest for the environment, nothing to say.
    const released = validateRepo(
      withChanges(tree, {
        [file]: riding,
        'services/nightly-reports/releases/dev.yaml': text(
          tree,
          'services/nightly-reports/releases/staging.yaml',
        ),
      }),
    );
    expect(released.diagnostics.map((d) => d.rule)).not.toContain('release/config-without-release');
  });

  it('warns when a service drains during deploys but depends on nothing', () => {
    const file = 'services/nightly-reports/service.yaml';
    const source = text(tree, file);
    const draining = source
      .replace('\nenvironments:\n', '\ndrainDuringDeploys: true\nenvironments:\n')
      .replace('  dev:\n    hosts:\n', '  dev:\n    drainDuringDeploys: true\n    hosts:\n');
    expect(draining).not.toBe(source);
    const { diagnostics } = validateRepo(withChanges(tree, { [file]: draining }));
    // Once where the service says it, once where an environment says it again.
    expect(diagnostics).toEqual([
      expect.objectContaining({
        file,
        rule: 'service/drain-without-dependencies',
        severity: 'warning',
        line: lineOf(draining, 'drainDuringDeploys: true'),
      }),
      expect.objectContaining({
        rule: 'service/drain-without-dependencies',
        line: lineOf(draining, '    drainDuringDeploys: true'),
      }),
    ]);
    // Turned off everywhere, or said by a service with dependencies: nothing to say.
    const off = draining.replace('    drainDuringDeploys: true\n', '    drainDuringDeploys: false\n');
    const offEverywhere = off.replace('\ndrainDuringDeploys: true\n', '\ndrainDuringDeploys: false\n');
    expect(validateRepo(withChanges(tree, { [file]: offEverywhere })).diagnostics).toEqual([]);
    expect(validateRepo(tree).diagnostics.map((d) => d.rule)).not.toContain(
      'service/drain-without-dependencies',
    );
  });

  it('refuses a drainDuringDeploys that is not true or false', () => {
    const gateway = 'services/edge-gateway/service.yaml';
    const errors = errorsOf(edit(gateway, 'drainDuringDeploys: true', 'drainDuringDeploys: yes-please'));
    expect(errors).toEqual([
      expect.objectContaining({
        file: gateway,
        rule: 'schema/type',
        line: lineOf(text(tree, gateway), 'drainDuringDeploys: true'),
      }),
    ]);
  });

  it('warns about a deployments rule glob that matches no release manifest', () => {
    const source = text(tree, 'policy.yaml');
    const steering = source.slice(source.indexOf('deployments:'));
    const { diagnostics } = validateRepo(
      withChanges(tree, {
        'policy.yaml':
          source.slice(0, source.indexOf('deployments:')) +
          steering.replace('services/*/releases/prod.yaml', 'services/*/config/prod.yaml'),
      }),
    );
    expect(diagnostics).toEqual([
      expect.objectContaining({
        rule: 'policy/unmatched-glob',
        severity: 'warning',
        line: lineOf(source, 'deployments:') + 5,
      }),
    ]);
  });
});
