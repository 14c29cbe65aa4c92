import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_REPO_DIR } from '../test/support/example-repo.js';
import { runCliCaptured } from '../test/support/run-cli.js';

/** `cairn validate` on a copy of the example holding one hostile file: a finding at the file, exit 1. */
describe('cairn validate on hostile files', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cairn-hostile-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  const config = 'services/recommender/config';
  const cases: { title: string; name: string | Buffer; content: string; file: string; rule: string }[] = [
    {
      title: 'a file name that is not UTF-8',
      name: Buffer.concat([Buffer.from(`${config}/f`), Buffer.from([0xff]), Buffer.from('.yml')]),
      content: 'a: 1\n',
      file: `${config}/f\ufffd.yml`,
      rule: 'path/unsafe',
    },
    {
      title: 'a name with a backslash',
      name: `${config}/win\\path.yaml`,
      content: 'a: 1\n',
      file: `${config}/win\\path.yaml`,
      rule: 'path/unsafe',
    },
    {
      title: 'a 5 MB YAML file',
      name: `${config}/big.yaml`,
      content: 'key: value\n'.repeat(500_000),
      file: `${config}/big.yaml`,
      rule: 'file/too-large',
    },
    {
      title: 'a JSON file of 10,000 unclosed [',
      name: `${config}/deep.json`,
      content: '['.repeat(10_000),
      file: `${config}/deep.json`,
      rule: 'json/too-deep',
    },
    {
      title: 'a YAML file of 125,000 duplicate keys',
      name: `${config}/dup.yaml`,
      content: 'a:\n'.repeat(125_000),
      file: `${config}/dup.yaml`,
      rule: 'yaml/duplicate-key',
    },
  ];

  it('prints a file name that would retitle the terminal and clear the screen escaped', async () => {
    const dir = join(scratch, 'terminal');
    await cp(EXAMPLE_REPO_DIR, dir, { recursive: true });
    await writeFile(join(dir, config, 'x\u001b]0;PWNED\u0007\u001b[2Jy.yaml'), 'a: 1\n');

    const { code, stdout } = await runCliCaptured(['validate', dir]);
    expect(code).toBe(1);
    expect(stdout).toContain(`${config}/x\\e]0;PWNED\\x07\\e[2Jy.yaml:1:1: error path/unsafe:`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    expect(stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  for (const [index, { title, name, content, file, rule }] of cases.entries()) {
    it(`reports ${title} at the file, as an error`, async () => {
      const dir = join(scratch, `repo-${index}`);
      await cp(EXAMPLE_REPO_DIR, dir, { recursive: true });
      await writeFile(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(name)]), content);

      const { code, stdout, stderr } = await runCliCaptured(['validate', '--format', 'json', dir]);
      expect({ code, stderr }).toEqual({ code: 1, stderr: '' });
      const report = JSON.parse(stdout) as { diagnostics: { file: string; rule: string; line: number }[] };
      expect(report.diagnostics).toContainEqual(expect.objectContaining({ file, rule, severity: 'error' }));
      // A hostile file's problems are listed up to a bound, with one line counting the rest.
      expect(report.diagnostics.length).toBeLessThanOrEqual(60);
    }, 60_000);
  }
});
