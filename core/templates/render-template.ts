import {
  Context,
  Liquid,
  LiquidError,
  RenderError,
  type Template,
  TokenizationError,
  toValue,
  toValueSync,
  UndefinedVariableError,
} from 'liquidjs';
import { type Diagnostic, diagnostic, type SourcePosition, START_OF_FILE } from '../diagnostic.js';
import { decodeText } from '../source-text.js';
import type { TemplateContext } from './template-context.js';

/*
 * Templates come from pull requests, and the bot renders them before anyone reviewed them, so the
 * engine is LiquidJS: a template calls no JavaScript and reads nothing but its context. On top of
 * that, only the tags and filters listed here exist: no tag reads another file (include, render,
 * layout), and no filter reads the clock or chance (date, sample), so the same model always renders
 * the same bytes. Every render is bounded in time, allocations and output.
 */

/** The tags a template may use. */
export const TEMPLATE_TAGS: readonly string[] = [
  '#',
  'assign',
  'break',
  'capture',
  'case',
  'comment',
  'continue',
  'cycle',
  'decrement',
  'echo',
  'for',
  'if',
  'increment',
  'liquid',
  'raw',
  'unless',
];

/** LiquidJS's tags that read other files, left out on purpose. */
const FILE_TAGS: ReadonlySet<string> = new Set(['include', 'render', 'layout', 'block']);

/** The filters a template may use: pure functions of their input. */
export const TEMPLATE_FILTERS: readonly string[] = [
  'abs',
  'append',
  'at_least',
  'at_most',
  'capitalize',
  'ceil',
  'compact',
  'concat',
  'default',
  'divided_by',
  'downcase',
  'escape',
  'first',
  'floor',
  'join',
  'json',
  'last',
  'lstrip',
  'map',
  'minus',
  'modulo',
  'plus',
  'prepend',
  'remove',
  'remove_first',
  'remove_last',
  'replace',
  'replace_first',
  'replace_last',
  'reject',
  'reverse',
  'round',
  'rstrip',
  'size',
  'slice',
  'sort',
  'sort_natural',
  'split',
  'strip',
  'strip_newlines',
  'sum',
  'times',
  'to_integer',
  'truncate',
  'uniq',
  'upcase',
  'url_decode',
  'url_encode',
  'where',
  'xml_escape',
];

/** Longest one render may take; past it the render stops with `template/limit`. */
export const TEMPLATE_RENDER_MS = 1_000;
/** What all of one repository's renders together may take, so many slow templates cannot stall a load. */
export const REPOSITORY_RENDER_MS = 10_000;
/**
 * Items one render may allocate, as LiquidJS counts them (characters of the strings filters build,
 * elements of arrays and ranges): plenty for templates over thousands of hosts, and small enough that a
 * runaway range or a string doubled in a loop stops within milliseconds, the same way every time.
 */
export const TEMPLATE_MEMORY_LIMIT = 1_000_000;

export interface TemplateLimits {
  /** Largest rendered file in bytes (limits.maxFileBytes): a render stops as soon as it is larger. */
  readonly maxOutputBytes: number;
  /** `performance.now()` past which no render may run (the repository's render budget). */
  readonly deadline: number;
}

/** A template rendered for each environment of its service. */
export interface TemplateRendering {
  /** Rendered text by environment; an environment whose render failed has none. */
  readonly outputs: ReadonlyMap<string, string>;
  /** What went wrong, once per problem, naming the environments where it happened. */
  readonly diagnostics: readonly Diagnostic[];
  /**
   * Whether a clock stopped a render (the time limit, or the repository's budget): the same input may
   * render next time, so the outcome must not be remembered.
   */
  readonly timed: boolean;
}

/** The render deadline of one load of a repository. */
export function renderDeadline(now = performance.now()): number {
  return now + REPOSITORY_RENDER_MS;
}

/**
 * Renders the template in `file` for every environment of `contexts`. Never throws on anything a
 * template holds: syntax errors, unknown variables and filters, and renders that run too long,
 * allocate too much or produce too much become diagnostics at the template's line and column.
 */
export function renderTemplateFile(
  file: string,
  bytes: Uint8Array,
  contexts: ReadonlyMap<string, TemplateContext>,
  limits: TemplateLimits,
): TemplateRendering {
  const source = decodeText(bytes);
  if (source === undefined) {
    return {
      outputs: new Map(),
      diagnostics: [
        diagnostic(
          file,
          START_OF_FILE,
          'error',
          'file/not-text',
          'not UTF-8 text (binary content or another encoding): a template must be UTF-8',
        ),
      ],
      timed: false,
    };
  }
  let templates: Template[];
  try {
    templates = engine.parse(source);
  } catch (error) {
    const problem = problemOf(error, limits);
    return { outputs: new Map(), diagnostics: [toDiagnostic(file, problem, [])], timed: problem.timed };
  }

  const outputs = new Map<string, string>();
  const problems = new Map<string, { problem: TemplateProblem; environments: string[] }>();
  let timed = false;
  for (const [env, context] of contexts) {
    const result = render(templates, context, limits);
    if (typeof result === 'string') {
      outputs.set(env, result);
      continue;
    }
    timed ||= result.timed;
    const key = `${result.line}:${result.column}:${result.rule}:${result.message}`;
    const seen = problems.get(key);
    if (seen) seen.environments.push(env);
    else problems.set(key, { problem: result, environments: [env] });
  }
  const diagnostics = [...problems.values()].map(({ problem, environments }) =>
    toDiagnostic(file, problem, environments),
  );
  return { outputs, diagnostics, timed };
}

interface TemplateProblem extends SourcePosition {
  readonly rule: string;
  readonly message: string;
  readonly timed: boolean;
}

const engine = createEngine();

function createEngine(): Liquid {
  const liquid = new Liquid({
    strictVariables: true,
    strictFilters: true,
    // Only the context's own keys: no `constructor`, no prototype chain.
    ownPropertyOnly: true,
    // Nothing is looked up on disk: partials would come from this empty map, and their tags are gone.
    templates: {},
    relativeReference: false,
    dynamicPartials: false,
    cache: false,
    // Neither the machine's time zone nor its locale may change a rendered byte.
    timezoneOffset: 0,
    locale: 'en-US',
    memoryLimit: TEMPLATE_MEMORY_LIMIT,
  });
  const tags = new Set(TEMPLATE_TAGS);
  for (const name of Object.keys(liquid.tags)) if (!tags.has(name)) delete liquid.tags[name];
  const filters = new Set(TEMPLATE_FILTERS);
  for (const name of Object.keys(liquid.filters)) if (!filters.has(name)) liquid.unregisterFilter(name);
  return liquid;
}

/** Thrown by the output writer once a render is larger than a file may be. */
class OutputTooLargeError extends Error {}

/** Collects a render's output and stops it once it is larger than `maxChars` UTF-16 code units. */
class BoundedOutput {
  buffer = '';
  constructor(private readonly maxChars: number) {}

  write(value: unknown): void {
    this.buffer += outputText(value);
    // A UTF-16 code unit is at least one UTF-8 byte: past this length the file is surely too large.
    if (this.buffer.length > this.maxChars) throw new OutputTooLargeError();
  }
}

/** What `{{ value }}` writes, as LiquidJS's own output writer has it. */
function outputText(value: unknown): string {
  const plain = toValue(value);
  if (typeof plain === 'string') return plain;
  if (plain === null || plain === undefined) return '';
  if (Array.isArray(plain)) return plain.map(outputText).join('');
  return String(plain);
}

function render(
  templates: Template[],
  context: TemplateContext,
  limits: TemplateLimits,
): string | TemplateProblem {
  const remaining = Math.min(TEMPLATE_RENDER_MS, limits.deadline - performance.now());
  if (remaining <= 0) {
    return {
      ...START_OF_FILE,
      rule: 'template/limit',
      message: `not rendered: the repository's templates used up their ${REPOSITORY_RENDER_MS / 1000} s of rendering; make the slow ones faster`,
      timed: true,
    };
  }
  const output = new BoundedOutput(limits.maxOutputBytes);
  try {
    const scope = new Context(
      context,
      engine.options,
      { sync: true, renderLimit: remaining },
      { liquid: engine },
    );
    toValueSync(engine.renderer.renderTemplates(templates, scope, output));
  } catch (error) {
    return problemOf(error, limits);
  }
  if (Buffer.byteLength(output.buffer, 'utf8') > limits.maxOutputBytes)
    return tooLarge(START_OF_FILE, limits);
  return output.buffer;
}

function tooLarge(at: SourcePosition, limits: TemplateLimits): TemplateProblem {
  return {
    ...at,
    rule: 'file/too-large',
    message:
      `renders to more than ${limits.maxOutputBytes} bytes (limits.maxFileBytes in cairn.yaml): ` +
      'each file becomes one ZooKeeper node; render less, or split the template',
    timed: false,
  };
}

/**
 * Turns what LiquidJS threw into a problem with a stable rule. LiquidJS has no error codes, so its
 * few messages that matter are recognised here, in one place.
 */
function problemOf(error: unknown, limits: TemplateLimits): TemplateProblem {
  const at = positionOf(error);
  const cause = error instanceof LiquidError ? (error.originalError ?? error) : error;
  if (cause instanceof OutputTooLargeError) return tooLarge(at, limits);
  const message = messageOf(error);
  const limit = (text: string, timed = false): TemplateProblem => ({
    ...at,
    rule: 'template/limit',
    message: text,
    timed,
  });
  if (message === 'template render limit exceeded') {
    return limit(
      `rendering took longer than ${TEMPLATE_RENDER_MS} ms and was stopped here: a loop too large, or nested loops?`,
      true,
    );
  }
  if (message === 'memory alloc limit exceeded') {
    return limit(
      `rendering allocated more than ${TEMPLATE_MEMORY_LIMIT.toLocaleString('en-US')} items and was stopped here: a range or repeated concat too large?`,
    );
  }
  if (message === 'parse length limit exceeded') return limit('the template is too long to parse');
  if (cause instanceof RangeError) {
    return limit(`rendering stopped here: ${cause.message} (tags nested too deeply, or a string too long?)`);
  }
  if (error instanceof UndefinedVariableError) {
    const name = message.replace(/^undefined variable: /, '');
    return {
      ...at,
      rule: 'template/unknown-variable',
      message: `unknown variable "${name}": a template sees service, environment, dependencies and routes (schemas/README.md lists their fields)`,
      timed: false,
    };
  }
  const filter = /^undefined filter: (.*)$/.exec(message);
  if (filter) {
    return {
      ...at,
      rule: 'template/unknown-filter',
      message: `unknown filter "${filter[1]}": templates may use ${TEMPLATE_FILTERS.join(', ')}`,
      timed: false,
    };
  }
  const tag = /^tag "(.*)" not found$/.exec(message);
  if (tag) {
    return {
      ...at,
      rule: 'template/syntax',
      message: FILE_TAGS.has(tag[1] as string)
        ? `tag "${tag[1]}" is not available: a template reads no other file, only its context`
        : `unknown tag "${tag[1]}": templates may use ${TEMPLATE_TAGS.join(', ')}`,
      timed: false,
    };
  }
  const syntax =
    error instanceof TokenizationError || (error instanceof LiquidError && !(error instanceof RenderError));
  return { ...at, rule: syntax ? 'template/syntax' : 'template/render', message, timed: false };
}

function positionOf(error: unknown): SourcePosition {
  if (!(error instanceof LiquidError)) return START_OF_FILE;
  const [line, column] = error.token.getPosition();
  return { line: line ?? 1, column: column ?? 1 };
}

/** The message without the position LiquidJS appends to it (", line:3, col:7"). */
function messageOf(error: unknown): string {
  if (error instanceof LiquidError) {
    const original = error.originalError?.message;
    return original ?? error.message.replace(/, line:\d+, col:\d+$/, '');
  }
  return error instanceof Error ? error.message : String(error);
}

function toDiagnostic(file: string, problem: TemplateProblem, environments: readonly string[]): Diagnostic {
  const where = environments.length > 0 ? ` (rendering for ${environments.join(', ')})` : '';
  return diagnostic(file, problem, 'error', problem.rule, `${problem.message}${where}`);
}
