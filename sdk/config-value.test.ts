import { describe, expect, it } from 'vitest';
import { compileValueRule } from './config-value.js';
import { compileValidators } from './file-validators.js';
import { decodeFileValue } from './file-value.js';
import type { StandardSchemaV1 } from './standard-schema.js';

const yaml = decodeFileValue(
  'application.yaml',
  new TextEncoder().encode('ranking:\n  maxResults: 40\n  model: gbdt\n'),
);
const properties = decodeFileValue(
  'app.properties',
  new TextEncoder().encode('server.port=8080\ncache.on=true\n'),
);

/** A Standard Schema as Zod or Valibot expose one: an integer between bounds. */
function integerSchema(min: number, max: number): StandardSchemaV1<unknown, number> {
  return {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) =>
        Number.isInteger(value) && (value as number) >= min && (value as number) <= max
          ? { value: value as number }
          : { issues: [{ message: `expected an integer in ${min}..${max}`, path: [] }] },
    },
  };
}

describe('a value rule: key path, default and schema', () => {
  it('finds a value, and falls back to the default when the key or the file is missing', () => {
    expect(compileValueRule('application.yaml', 'ranking.maxResults').resolve(yaml)).toEqual({
      kind: 'value',
      value: 40,
    });
    const withDefault = compileValueRule('application.yaml', 'ranking.minResults', { default: 5 });
    expect(withDefault.resolve(yaml)).toEqual({ kind: 'value', value: 5 });
    expect(withDefault.resolve(undefined)).toEqual({ kind: 'value', value: 5 });
    expect(compileValueRule('application.yaml', 'ranking.minResults').resolve(yaml)).toEqual({
      kind: 'missing',
      fileMissing: false,
      at: 'ranking',
    });
    expect(compileValueRule('x.yaml', 'a').resolve(undefined)).toMatchObject({
      kind: 'missing',
      fileMissing: true,
    });
  });

  it('holds a value to its default type, reading text of .properties as the number or boolean the default is', () => {
    expect(compileValueRule('application.yaml', 'ranking.model', { default: 5 }).resolve(yaml)).toEqual({
      kind: 'invalid',
      reason: expect.stringContaining('is a string ("gbdt"), and its default is a number'),
    });
    expect(compileValueRule('app.properties', 'server.port', { default: 80 }).resolve(properties)).toEqual({
      kind: 'value',
      value: 8080,
    });
    expect(compileValueRule('app.properties', 'cache.on', { default: false }).resolve(properties)).toEqual({
      kind: 'value',
      value: true,
    });
  });

  it('checks a value with a Standard Schema or a JSON Schema, and says why it refuses one', () => {
    expect(
      compileValueRule('application.yaml', 'ranking.maxResults', { schema: integerSchema(1, 100) }).resolve(
        yaml,
      ),
    ).toEqual({
      kind: 'value',
      value: 40,
    });
    expect(
      compileValueRule('application.yaml', 'ranking.maxResults', { schema: integerSchema(1, 10) }).resolve(
        yaml,
      ),
    ).toEqual({
      kind: 'invalid',
      reason: 'does not match its test schema: expected an integer in 1..10',
    });
    expect(
      compileValueRule('application.yaml', 'ranking', {
        schema: {
          type: 'object',
          required: ['model', 'maxResults'],
          properties: { maxResults: { maximum: 10 } },
        },
      }).resolve(yaml),
    ).toEqual({ kind: 'invalid', reason: expect.stringContaining('value/maxResults must be <= 10') });
  });

  it('refuses a schema that answers asynchronously, and a schema option that is no schema', () => {
    const asyncSchema: StandardSchemaV1 = {
      '~standard': { version: 1, vendor: 'test', validate: async (value) => ({ value }) },
    };
    expect(compileValueRule('application.yaml', 'ranking', { schema: asyncSchema }).resolve(yaml)).toEqual({
      kind: 'invalid',
      reason: expect.stringContaining('validates asynchronously'),
    });
    expect(() => compileValueRule('a.yaml', 'x', { schema: 42 as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', option: 'schema' }),
    );
  });

  it('validates whole files with a Standard Schema given in validate', () => {
    const check = compileValidators({ 'port.json': integerSchema(1, 65535) });
    expect(check('port.json', 8080)).toBeUndefined();
    expect(check('port.json', 0)).toMatch(/expected an integer in 1..65535/);
  });
});
