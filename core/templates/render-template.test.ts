import { Liquid } from 'liquidjs';
import { describe, expect, it } from 'vitest';
import {
  REPOSITORY_RENDER_MS,
  renderDeadline,
  renderTemplateFile,
  TEMPLATE_FILTERS,
  TEMPLATE_RENDER_MS,
  TEMPLATE_TAGS,
  type TemplateLimits,
} from './render-template.js';
import type { TemplateContext } from './template-context.js';

const FILE = 'services/gw/config/upstreams.conf.liquid';

function contextFor(env: string): TemplateContext {
  return {
    service: { name: 'gw', port: 80, loadBalancing: 'weighted-round-robin', hosts: [], routes: [] },
    environment: { name: env },
    dependencies: [
      {
        name: 'search',
        port: 8080,
        loadBalancing: env === 'prod' ? 'consistent-hash' : 'weighted-round-robin',
        hosts: [
          { host: `search-${env}-01`, weight: 100, labels: { zone: 'a' }, draining: false },
          { host: `search-${env}-02`, weight: 0, labels: {}, draining: false },
        ],
        routes: ['/v2/search'],
      },
    ],
    routes: [{ prefix: '/v2/search', service: 'search' }],
  };
}

const CONTEXTS = new Map(['dev', 'prod'].map((env) => [env, contextFor(env)]));

function render(source: string | Uint8Array, limits: Partial<TemplateLimits> = {}) {
  return renderTemplateFile(FILE, typeof source === 'string' ? Buffer.from(source) : source, CONTEXTS, {
    maxOutputBytes: 100_000,
    deadline: renderDeadline(),
    ...limits,
  });
}

/** The one diagnostic a template that fails everywhere yields. */
function problemOf(source: string, limits: Partial<TemplateLimits> = {}) {
  const rendering = render(source, limits);
  expect(rendering.outputs.size).toBe(0);
  expect(rendering.diagnostics).toHaveLength(1);
  return rendering.diagnostics[0];
}

const UPSTREAM = `{%- for upstream in dependencies %}
upstream {{ upstream.name }} {
{%- if upstream.loadBalancing == "consistent-hash" %}
    hash $key consistent;
{%- endif %}
{%- for server in upstream.hosts %}
    server {{ server.host }}:{{ upstream.port }}{% if server.weight == 0 %} down{% else %} weight={{ server.weight }}{% endif %};
{%- endfor %}
}
{%- endfor %}
`;

describe('rendering a template', () => {
  it('renders each environment from its own context', () => {
    const rendering = render(UPSTREAM);
    expect(rendering.diagnostics).toEqual([]);
    expect(rendering.outputs.get('dev')).toBe(
      '\nupstream search {\n    server search-dev-01:8080 weight=100;\n    server search-dev-02:8080 down;\n}\n',
    );
    expect(rendering.outputs.get('prod')).toBe(
      '\nupstream search {\n    hash $key consistent;\n    server search-prod-01:8080 weight=100;\n    server search-prod-02:8080 down;\n}\n',
    );
  });

  it('renders the same bytes every time', () => {
    const source = `${UPSTREAM}{% for route in routes %}{{ route.prefix }} {{ route.service }}{% endfor %}{{ dependencies | json }}`;
    const first = render(source);
    for (let i = 0; i < 5; i++) expect(render(source).outputs).toEqual(first.outputs);
  });

  it('says which tags exist when one is misspelt', () => {
    expect(problemOf('{% for x in routes %}{% endfro %}')?.message).toMatch(
      /^unknown tag "endfro": templates may use #, assign, break/,
    );
  });

  it('reads no clock and no chance: date and sample are not there', () => {
    expect(problemOf('{{ "now" | date: "%Y" }}')?.rule).toBe('template/unknown-filter');
    expect(problemOf('{{ dependencies | sample }}')?.rule).toBe('template/unknown-filter');
  });

  it('offers only tags and filters LiquidJS has, so an upgrade that drops one is noticed', () => {
    const liquid = new Liquid();
    for (const tag of TEMPLATE_TAGS) expect(liquid.tags, tag).toHaveProperty(tag);
    for (const filter of TEMPLATE_FILTERS) expect(liquid.filters, filter).toHaveProperty(filter);
  });
});

describe('a template with a mistake yields a diagnostic at its line and column', () => {
  it.each([
    {
      name: 'an unclosed tag',
      source: 'a\nb {% if service %}\nc\n',
      rule: 'template/syntax',
      line: 2,
      column: 3,
      message: /tag \{% if service %\} not closed/,
    },
    {
      name: 'an unclosed output',
      source: 'a\n  {{ service.name\n',
      rule: 'template/syntax',
      line: 2,
      column: 3,
      message: /not closed/,
    },
    {
      name: 'an unknown filter',
      source: '\n\n    {{ service.name | shout }}',
      rule: 'template/unknown-filter',
      line: 3,
      column: 5,
      message: /unknown filter "shout": templates may use abs, append/,
    },
    {
      name: 'a tag that would read another file',
      source: 'x\n{% include "secrets.conf" %}',
      rule: 'template/syntax',
      line: 2,
      column: 1,
      message: /tag "include" is not available: a template reads no other file/,
    },
    {
      name: 'an unknown variable',
      source: 'a\n\n   {{ dependencies[0].hostz }}',
      rule: 'template/unknown-variable',
      line: 3,
      column: 7,
      message:
        /unknown variable "dependencies\.0\.hostz": a template sees service, environment, dependencies and routes .*\(rendering for dev, prod\)$/,
    },
    {
      name: 'a property of the prototype',
      source: '{{ service.constructor }}',
      rule: 'template/unknown-variable',
      line: 1,
      column: 4,
    },
    {
      name: 'a filter that fails on its input',
      source: 'a\n{{ "%" | url_decode }}',
      rule: 'template/render',
      line: 2,
      column: 1,
      message: /URI malformed \(rendering for dev, prod\)/,
    },
  ])('$name', ({ source, rule, line, column, message }) => {
    const problem = problemOf(source);
    expect(problem).toEqual(expect.objectContaining({ file: FILE, severity: 'error', rule, line, column }));
    if (message) expect(problem?.message).toMatch(message);
  });

  it('names only the environments where a render failed, and renders the others', () => {
    const rendering = render('ok\n{% if environment.name == "prod" %}{{ service.nope }}{% endif %}');
    expect(rendering.outputs).toEqual(new Map([['dev', 'ok\n']]));
    expect(rendering.diagnostics).toEqual([
      expect.objectContaining({ rule: 'template/unknown-variable', line: 2, column: 39 }),
    ]);
    expect(rendering.diagnostics[0]?.message).toMatch(/\(rendering for prod\)$/);
  });

  it('reports a template that is not UTF-8 text', () => {
    expect(problemOf(new Uint8Array([0x7b, 0x7b, 0xff, 0x00, 0x7d, 0x7d]) as unknown as string)).toEqual(
      expect.objectContaining({ rule: 'file/not-text', line: 1 }),
    );
  });
});

describe('a hostile template is stopped, quickly, with a diagnostic', () => {
  const stopped = (source: string, rule = 'template/limit', limits: Partial<TemplateLimits> = {}) => {
    const started = performance.now();
    const rendering = render(source, limits);
    // Two environments of at most TEMPLATE_RENDER_MS each, with room for a loaded machine.
    expect(performance.now() - started).toBeLessThan(8 * TEMPLATE_RENDER_MS);
    expect(rendering.outputs.size).toBe(0);
    // Under load the clock may stop one environment's render before the allocation bound does: the
    // rule is the same, the message says which bound.
    expect([...new Set(rendering.diagnostics.map((d) => d.rule))]).toEqual([rule]);
    return rendering;
  };

  it('a range of a billion', () => {
    const rendering = stopped('{% for i in (1..1000000000) %}{{ i }}{% endfor %}');
    expect(rendering.diagnostics[0]?.message).toMatch(/allocated more than 1,000,000 items/);
    expect(rendering.timed).toBe(false);
  });

  it('a loop with an empty body', () => {
    stopped('{% for i in (1..1000000000) %}{% endfor %}');
  });

  it('nested loops', () => {
    stopped(
      '{% for i in (1..100000) %}{% for j in (1..100000) %}{% for k in (1..100000) %}{% endfor %}{% endfor %}{% endfor %}',
    );
  });

  it('a list doubled in a loop', () => {
    stopped(
      '{% assign a = "1,2,3" | split: "," %}{% for i in (1..64) %}{% assign a = a | concat: a %}{% endfor %}',
    );
  });

  it('a string doubled in a loop', () => {
    stopped(
      '{% assign s = "xxxxxxxx" %}{% for i in (1..64) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}',
    );
  });

  it('tags nested too deeply', () => {
    stopped(`${'{% if true %}'.repeat(20_000)}x${'{% endif %}'.repeat(20_000)}`);
  });

  it('an output larger than a file may be', () => {
    const rendering = stopped('{% for i in (1..100000) %}0123456789{% endfor %}', 'file/too-large');
    expect(rendering.diagnostics[0]?.message).toMatch(
      /renders to more than 100000 bytes \(limits\.maxFileBytes/,
    );
  });

  it('counts the bytes of the output, not its characters', () => {
    // 40,000 characters of three bytes each: 120,000 bytes.
    stopped('{% for i in (1..40000) %}€{% endfor %}', 'file/too-large');
  });

  it("any template once the repository's render time is spent, and says the outcome may change", () => {
    const rendering = stopped('fine', 'template/limit', { deadline: performance.now() - 1 });
    expect(rendering.diagnostics[0]?.message).toMatch(
      new RegExp(`used up their ${REPOSITORY_RENDER_MS / 1000} s of rendering`),
    );
    expect(rendering.timed).toBe(true);
  });
});
