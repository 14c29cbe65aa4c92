/**
 * The Standard Schema interface (https://standardschema.dev, v1) that Zod, Valibot, ArkType and
 * others implement: the few lines of it Cairn needs, so that no schema library is a dependency.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: ReadonlyArray<{
        readonly message: string;
        readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
      }>;
    };

/** The type a Standard Schema produces. */
export type StandardSchemaOutput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output'];

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const standard = (value as { '~standard'?: { version?: unknown; validate?: unknown } } | null)?.[
    '~standard'
  ];
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof standard === 'object' &&
    standard !== null &&
    standard.version === 1 &&
    typeof standard.validate === 'function'
  );
}

/** What a value check concluded: the (possibly transformed) value, or why it was refused. */
export type SchemaVerdict =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string };

/** Runs a Standard Schema synchronously; one that answers with a promise is refused, with the reason. */
export function checkStandardSchema(schema: StandardSchemaV1, value: unknown): SchemaVerdict {
  let result: StandardSchemaResult<unknown> | Promise<StandardSchemaResult<unknown>>;
  try {
    result = schema['~standard'].validate(value);
  } catch (error) {
    return { ok: false, reason: `its schema threw: ${(error as Error)?.message ?? String(error)}` };
  }
  if (result instanceof Promise) {
    result.catch(() => {
      // Refused below; the rejection carries nothing more to report.
    });
    return {
      ok: false,
      reason: `its ${schema['~standard'].vendor} schema validates asynchronously; give a synchronous one (no async refinements)`,
    };
  }
  if (result.issues === undefined) return { ok: true, value: result.value };
  const issues = result.issues.map((issue) => {
    const where = (issue.path ?? [])
      .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
      .join('.');
    return where ? `${where}: ${issue.message}` : issue.message;
  });
  return {
    ok: false,
    reason: `does not match its ${schema['~standard'].vendor} schema: ${issues.join('; ')}`,
  };
}
