import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: under ESM its default import is `module.exports`, which holds the plugin as `.default`.
const addFormats = addFormatsModule.default;

/** One operation of GitHub's REST description, as the emulator routes and checks it. */
export interface Operation {
  readonly method: string;
  /** The path template, e.g. `/repos/{owner}/{repo}/git/refs/{ref}`. */
  readonly template: string;
  readonly operationId: string;
  readonly definition: OperationDefinition;
}

interface MediaType {
  readonly schema?: unknown;
  readonly example?: unknown;
  readonly examples?: Readonly<Record<string, { readonly value?: unknown }>>;
}

interface OperationDefinition {
  readonly operationId: string;
  readonly parameters?: readonly { readonly name: string; readonly in: string; readonly schema?: unknown }[];
  readonly requestBody?: {
    readonly required?: boolean;
    readonly content?: Readonly<Record<string, MediaType>>;
  };
  readonly responses: Readonly<Record<string, { readonly content?: Readonly<Record<string, MediaType>> }>>;
}

interface Spec {
  readonly paths: Readonly<Record<string, Readonly<Record<string, OperationDefinition>>>>;
}

export interface SchemaProblem {
  readonly where: string;
  readonly errors: string;
}

interface CompiledTemplate {
  readonly segments: readonly string[];
  readonly literals: number;
  readonly byMethod: ReadonlyMap<string, Operation>;
}

/**
 * GitHub's own OpenAPI description (`@octokit/openapi`, dereferenced), loaded once per process: routes
 * requests to operations by method and path template, and checks request and response bodies against
 * the operation's schemas with ajv. OpenAPI 3.0's `nullable` becomes a JSON Schema type union.
 */
export class OpenApiDescription {
  private readonly templates: CompiledTemplate[] = [];
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv: Ajv;

  constructor(spec: Spec) {
    for (const [template, methods] of Object.entries(spec.paths)) {
      const byMethod = new Map<string, Operation>();
      for (const [method, definition] of Object.entries(methods)) {
        if (!definition || typeof definition !== 'object' || !('responses' in definition)) continue;
        byMethod.set(method.toUpperCase(), {
          method: method.toUpperCase(),
          template,
          operationId: definition.operationId,
          definition,
        });
      }
      const segments = template.split('/').slice(1);
      this.templates.push({
        segments,
        literals: segments.filter((s) => !s.startsWith('{')).length,
        byMethod,
      });
    }
    // Prefer the template with the most literal segments: `/git/refs/{ref}` over `/{owner}/{repo}/…`.
    this.templates.sort((a, b) => b.literals - a.literals);
    this.ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateFormats: true });
    addFormats(this.ajv);
  }

  /** The operation a request addresses, with its path parameters decoded. */
  match(
    method: string,
    pathname: string,
  ): { operation: Operation; params: Record<string, string> } | undefined {
    const parts = pathname.split('/').slice(1);
    for (const template of this.templates) {
      if (template.segments.length !== parts.length) continue;
      const operation = template.byMethod.get(method.toUpperCase());
      if (!operation) continue;
      const params: Record<string, string> = {};
      let matches = true;
      for (let i = 0; i < parts.length && matches; i++) {
        const segment = template.segments[i] as string;
        const part = parts[i] as string;
        if (segment.startsWith('{')) params[segment.slice(1, -1)] = decodeURIComponent(part);
        else matches = segment === part;
      }
      if (matches) return { operation, params };
    }
    return undefined;
  }

  /** Problems of a request body, or undefined when it is valid (or the operation takes none). */
  checkRequest(operation: Operation, body: unknown): SchemaProblem | undefined {
    const requestBody = operation.definition.requestBody;
    const schema = requestBody?.content?.['application/json']?.schema;
    if (schema === undefined) return undefined;
    if (body === undefined && !requestBody?.required) return undefined;
    return this.check(`${operation.operationId} request`, schema, body);
  }

  /** Problems of a response body against the declared status's schema; undeclared statuses are reported. */
  checkResponse(operation: Operation, status: number, body: unknown): SchemaProblem | undefined {
    const response = operation.definition.responses[String(status)];
    if (!response) {
      return {
        where: `${operation.operationId} response ${status}`,
        errors: `status ${status} is not declared; declared: ${Object.keys(operation.definition.responses).join(', ')}`,
      };
    }
    const schema = response.content?.['application/json']?.schema;
    // GitHub sends its uniform `{ message, documentation_url }` with every error, described or not.
    if (schema === undefined && status >= 400) return undefined;
    if (schema === undefined)
      return body === undefined || body === '' ? undefined : this.noBody(operation, status);
    return this.check(`${operation.operationId} response ${status}`, schema, body);
  }

  /** Whether an operation declares a status, so the emulator can only answer what GitHub may answer. */
  declares(operation: Operation, status: number): boolean {
    return String(status) in operation.definition.responses;
  }

  /** The documented example of a response: a complete, realistic object to build answers from. */
  example(operation: Operation, status: number): unknown {
    const media = operation.definition.responses[String(status)]?.content?.['application/json'];
    const value = media?.examples ? Object.values(media.examples)[0]?.value : media?.example;
    return structuredClone(value);
  }

  private noBody(operation: Operation, status: number): SchemaProblem {
    return {
      where: `${operation.operationId} response ${status}`,
      errors: 'declares no body but one was sent',
    };
  }

  private check(where: string, schema: unknown, value: unknown): SchemaProblem | undefined {
    let validate = this.validators.get(where);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(schema) as object);
      this.validators.set(where, validate);
    }
    if (validate(value)) return undefined;
    const errors = (validate.errors ?? [])
      .slice(0, 10)
      .map(
        (e) => `${e.instancePath || '(root)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
      )
      .join('; ');
    return { where, errors };
  }
}

/** Keywords whose value maps names to schemas, rather than being a schema. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas']);
/** Keywords whose value is data (or documentation), never a schema. */
const DATA_KEYWORDS = new Set(['example', 'examples', 'enum', 'const', 'default', 'required']);

/** OpenAPI 3.0 schema → JSON Schema: `nullable: true` becomes a type union (or `anyOf` with null). */
export function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DATA_KEYWORDS.has(key)) out[key] = value;
    else if (SCHEMA_MAPS.has(key) && value !== null && typeof value === 'object') {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, inner]) => [name, toJsonSchema(inner)]),
      );
    } else out[key] = toJsonSchema(value);
  }
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      return out;
    }
    if (out.type === undefined) return { anyOf: [{ type: 'null' }, out] };
  }
  if (out.nullable === false) delete out.nullable;
  return out;
}

const loaded = new Map<string, OpenApiDescription>();

/** Where the trimmed description is kept between runs. */
const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/cairn/', import.meta.url));

/**
 * The description, with full schemas for the operations in `keep` and only the routing of all others
 * (so a call to any other endpoint is still recognised, and reported as not emulated). Parsing the
 * published file takes over a second (it is over 70 MB), so the trimmed description is cached in
 * `node_modules/.cache/cairn` (a test run's temp dir is its own), keyed by the package version, the
 * file and `keep`; each process loads it once.
 */
export function loadGitHubOpenApi(keep: readonly string[]): OpenApiDescription {
  const wanted = [...new Set(keep)].sort();
  const require = createRequire(import.meta.url);
  const path = require.resolve('@octokit/openapi/generated/api.github.com.deref.json');
  const { version } = require('@octokit/openapi/package.json') as { version: string };
  const { size, mtimeMs } = statSync(path);
  const key = createHash('sha1')
    .update(JSON.stringify([version, size, mtimeMs, wanted]))
    .digest('hex')
    .slice(0, 16);
  let description = loaded.get(key);
  if (!description) {
    description = new OpenApiDescription(
      readTrimmed(path, join(CACHE_DIR, `github-openapi-${key}.json`), wanted),
    );
    loaded.set(key, description);
  }
  return description;
}

function readTrimmed(path: string, cache: string, keep: readonly string[]): Spec {
  try {
    return JSON.parse(readFileSync(cache, 'utf8')) as Spec;
  } catch {
    // Not cached yet (or a partial file from a crash): build it from the published description.
  }
  const full = JSON.parse(readFileSync(path, 'utf8')) as Spec;
  const kept = new Set(keep);
  const paths: Record<string, Record<string, OperationDefinition>> = {};
  for (const [template, methods] of Object.entries(full.paths)) {
    const trimmed: Record<string, OperationDefinition> = {};
    for (const [method, definition] of Object.entries(methods)) {
      if (!definition || typeof definition !== 'object' || !('responses' in definition)) continue;
      trimmed[method] = kept.has(definition.operationId)
        ? definition
        : { operationId: definition.operationId, responses: {} };
    }
    paths[template] = trimmed;
  }
  const spec: Spec = { paths };
  // Written aside and renamed, so a parallel test process never reads half a file.
  mkdirSync(CACHE_DIR, { recursive: true });
  const partial = `${cache}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify(spec));
  renameSync(partial, cache);
  return spec;
}
