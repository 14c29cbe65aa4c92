import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import {
  type Diagnostic,
  diagnostic,
  type ManifestChecker,
  type ManifestKind,
  type ParsedDocument,
  type ValuePath,
} from '../core/index.js';
import cairnSchema from './cairn.schema.json' with { type: 'json' };
import policySchema from './policy.schema.json' with { type: 'json' };
import releaseSchema from './release.schema.json' with { type: 'json' };
import serviceSchema from './service.schema.json' with { type: 'json' };

/** The published JSON Schema of each manifest kind (draft 2020-12). */
export const MANIFEST_SCHEMAS: Readonly<Record<ManifestKind, object>> = {
  settings: cairnSchema,
  policy: policySchema,
  service: serviceSchema,
  release: releaseSchema,
};

// ajv-formats is CommonJS: under ESM its default import is `module.exports`, which holds the plugin as `.default`.
const addFormats = addFormatsModule.default;

let validators: Record<ManifestKind, ValidateFunction> | undefined;

function compiledValidators(): Record<ManifestKind, ValidateFunction> {
  if (!validators) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true });
    addFormats(ajv);
    validators = {
      settings: ajv.compile(cairnSchema),
      policy: ajv.compile(policySchema),
      service: ajv.compile(serviceSchema),
      release: ajv.compile(releaseSchema),
    };
  }
  return validators;
}

/** Checks a manifest against its schema; each error points at the key or value it is about. */
export const checkManifest: ManifestChecker = (kind, file, document) => {
  const validate = compiledValidators()[kind];
  if (validate(document.value)) return [];
  return relevantErrors(validate.errors ?? []).map((error) => toDiagnostic(file, document, error));
};

/**
 * With allErrors, a failed `oneOf` (or `propertyNames`) also reports why each inner schema failed; those
 * repeat or contradict each other and confuse more than they help, so only the outer error is kept.
 */
function relevantErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const alternatives = errors.filter(
    (e) => e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'propertyNames',
  );
  return errors.filter(
    (error) =>
      !alternatives.some(
        (alt) =>
          alt !== error &&
          error.schemaPath.startsWith(`${alt.schemaPath}/`) &&
          error.instancePath.startsWith(alt.instancePath),
      ),
  );
}

function toDiagnostic(file: string, document: ParsedDocument, error: ErrorObject): Diagnostic {
  const path = pointerToPath(error.instancePath);
  const where = path.length > 0 ? `${path.join('.')}: ` : '';
  const rule = `schema/${error.keyword}`;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(
        (error.parentSchema as { properties?: object } | undefined)?.properties ?? {},
      );
      return diagnostic(
        file,
        document.positionOf([...path, key], 'key'),
        'error',
        rule,
        `${where}unknown key "${key}"${allowed.length > 0 ? `; allowed keys: ${allowed.join(', ')}` : ''}`,
      );
    }
    case 'required':
      return diagnostic(
        file,
        document.positionOf(path, 'key'),
        'error',
        rule,
        `${where}missing required key "${String(params.missingProperty)}"`,
      );
    case 'enum':
      return diagnostic(
        file,
        document.positionOf(path),
        'error',
        rule,
        `${where}must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(error.data)}`,
      );
    case 'const':
      return diagnostic(
        file,
        document.positionOf(path),
        'error',
        rule,
        `${where}must be ${JSON.stringify(params.allowedValue)}, not ${JSON.stringify(error.data)}`,
      );
    case 'type':
      return diagnostic(
        file,
        document.positionOf(path),
        'error',
        rule,
        `${where}must be ${String(params.type)}, not ${describeType(error.data)}`,
      );
    case 'pattern':
      return diagnostic(
        file,
        document.positionOf(path),
        'error',
        rule,
        `${where}${JSON.stringify(error.data)} does not match ${String(params.pattern)}${hint(error)}`,
      );
    case 'propertyNames':
      return diagnostic(
        file,
        document.positionOf([...path, String(params.propertyName)], 'key'),
        'error',
        rule,
        `${where}invalid name "${String(params.propertyName)}"${hint(error)}`,
      );
    case 'oneOf':
    case 'anyOf':
      return diagnostic(
        file,
        document.positionOf(path, 'key'),
        'error',
        rule,
        `${where}does not match any allowed form${hint(error)}`,
      );
    default:
      return diagnostic(
        file,
        document.positionOf(path),
        'error',
        rule,
        `${where}${error.message ?? 'is invalid'}`,
      );
  }
}

/** The schema's own description, which says what is expected in words a user knows. */
function hint(error: ErrorObject): string {
  const description = (error.parentSchema as { description?: string } | undefined)?.description;
  return description ? ` (${description.replace(/\.$/, '')})` : '';
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function pointerToPath(pointer: string): ValuePath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : segment));
}
