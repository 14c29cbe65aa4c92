import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { InvalidOptionsError } from './errors.js';
import {
  checkStandardSchema,
  isStandardSchema,
  type SchemaVerdict,
  type StandardSchemaV1,
} from './standard-schema.js';

/**
 * A service's own check of a file's new value. Return nothing (or true) to accept it; return false or
 * a reason, or throw, to refuse it. A refused value is not delivered: the service keeps the last
 * configuration it accepted.
 */
export type FileValidator = (value: unknown, file: string) => boolean | string | undefined | undefined;

/** A JSON Schema (draft 2020-12), as an object. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/**
 * A file's validation: a function, a Standard Schema (Zod, Valibot, ArkType…), or a JSON Schema
 * (draft 2020-12) its parsed value must match.
 */
export type FileValidation = FileValidator | StandardSchemaV1 | JsonSchema;

/** Checks one file's value: the reason it is refused, or undefined when it passes. */
export type CompiledValidators = (file: string, value: unknown) => string | undefined;

// ajv-formats is CommonJS: under ESM its default import is `module.exports`, which holds the plugin as `.default`.
const addFormats = addFormatsModule.default;

let ajv: Ajv2020 | undefined;
/** Thousands of clients in one process usually share one schema object: compile it once. */
const compiled = new WeakMap<object, ValidateFunction>();

function compileSchema(option: string, schema: JsonSchema): ValidateFunction {
  const known = compiled.get(schema);
  if (known) return known;
  if (!ajv) {
    ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
  }
  try {
    const validate = ajv.compile(schema);
    compiled.set(schema, validate);
    return validate;
  } catch (error) {
    throw new InvalidOptionsError(option, `not a valid JSON Schema: ${(error as Error).message}`);
  }
}

/**
 * A schema's check of a value, compiled once: a Standard Schema (whose output, possibly transformed,
 * is the value) or a JSON Schema. `option` names where the schema was given, for a schema that
 * cannot compile.
 */
export function compileValueSchema(
  option: string,
  schema: StandardSchemaV1 | JsonSchema,
): (value: unknown) => SchemaVerdict {
  if (isStandardSchema(schema)) return (value) => checkStandardSchema(schema, value);
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
    throw new InvalidOptionsError(option, 'give a Standard Schema (Zod, Valibot…) or a JSON Schema object');
  const validate = compileSchema(option, schema);
  return (value) =>
    validate(value)
      ? { ok: true, value }
      : {
          ok: false,
          reason: `does not match its JSON Schema: ${(ajv as Ajv2020).errorsText(validate.errors, { dataVar: 'value' })}`,
        };
}

/**
 * Compiles the validation of each named file once, at start. A file with a validation must stay
 * present: its removal is refused like an invalid value.
 */
export function compileValidators(
  rules: Readonly<Record<string, FileValidation>> | undefined,
): CompiledValidators {
  const checks = new Map<string, (value: unknown) => string | undefined>();
  for (const [file, rule] of Object.entries(rules ?? {})) {
    if (isStandardSchema(rule) || (rule !== null && typeof rule === 'object' && !Array.isArray(rule))) {
      const check = compileValueSchema(`validate["${file}"]`, rule as StandardSchemaV1 | JsonSchema);
      checks.set(file, (value) => {
        const verdict = check(value);
        return verdict.ok ? undefined : verdict.reason;
      });
    } else if (typeof rule === 'function') {
      checks.set(file, (value) => {
        try {
          const verdict = (rule as FileValidator)(value, file);
          if (verdict === undefined || verdict === true) return undefined;
          return verdict === false ? 'refused by its validator' : String(verdict);
        } catch (error) {
          return `its validator threw: ${(error as Error)?.message ?? String(error)}`;
        }
      });
    } else {
      throw new InvalidOptionsError(
        `validate["${file}"]`,
        'give a function, a Standard Schema (Zod, Valibot…) or a JSON Schema object',
      );
    }
  }
  return (file, value) => {
    const check = checks.get(file);
    if (!check) return undefined;
    if (value === undefined) return 'removed, but the service requires it (it has a validation)';
    return check(value);
  };
}

/** The files that have a validation, to check them all when a client starts. */
export function validatedFiles(rules: Readonly<Record<string, FileValidation>> | undefined): string[] {
  return Object.keys(rules ?? {});
}
