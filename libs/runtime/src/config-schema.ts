/**
 * A typed config schema: each app declares its fields once (type, default, description,
 * bounds), and `loadConfig` turns defaults, file, environment and flags into a frozen object
 * whose type is derived from the schema.
 */
interface FieldBase {
  description: string;
  /** Rendered as "[redacted]" in the start log. */
  secret?: boolean;
  /** Extra environment variable names read after APOGEE_<APP>_<FIELD> (e.g. LOG_LEVEL). */
  envAliases?: readonly string[];
}

export interface NumberField extends FieldBase {
  type: 'number';
  default: number;
  min?: number;
  max?: number;
  integer?: boolean;
}

export interface StringField extends FieldBase {
  type: 'string';
  default: string;
}

export interface BooleanField extends FieldBase {
  type: 'boolean';
  default: boolean;
}

export interface EnumField<V extends string = string> extends FieldBase {
  type: 'enum';
  values: readonly V[];
  default: V;
}

/** Comma-separated in the environment and on the command line, a JSON array in a file. */
export interface StringListField extends FieldBase {
  type: 'string-list';
  default: readonly string[];
}

export type ConfigField = NumberField | StringField | BooleanField | EnumField | StringListField;

export type ConfigSchema = Readonly<Record<string, ConfigField>>;

export type FieldValue<F extends ConfigField> = F extends NumberField
  ? number
  : F extends BooleanField
    ? boolean
    : F extends EnumField<infer V>
      ? V
      : F extends StringListField
        ? readonly string[]
        : string;

/** The frozen config object `loadConfig` returns for schema S. */
export type ConfigOf<S extends ConfigSchema> = { readonly [K in keyof S]: FieldValue<S[K]> };
