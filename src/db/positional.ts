/**
 * Positional row mapping for hot list queries. drizzle maps every column of every row through
 * generic checks (which kind of field, which decoder, which nesting path, which nulls); for a
 * user's conversation list that was a third of the Worker's CPU. A query run with `.values()`
 * answers plain arrays in the order of the selected tables' columns, and a decoder made once per
 * table turns them into the same rows drizzle would, calling a column's own decoder only where it
 * has one (booleans, JSON).
 */
import { Column, getTableColumns, type InferSelectModel } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";

type Field = { key: string; column: SQLiteColumn; decodes: boolean };

export interface RowDecoder<Row> {
  /** The columns, to select in this order. */
  readonly columns: Record<string, SQLiteColumn>;
  /** How many values one row takes. */
  readonly width: number;
  /** The row whose values start at `offset` of `values`. */
  decode(values: readonly unknown[], offset: number): Row;
}

/** Rows of the columns `keys` of `table`, in that order. */
export function rowDecoder<T extends SQLiteTable, K extends keyof InferSelectModel<T> & string>(table: T, keys: readonly K[]): RowDecoder<Pick<InferSelectModel<T>, K>> {
  const all = getTableColumns(table) as Record<string, SQLiteColumn>;
  const columns = Object.fromEntries(keys.map((k) => [k, all[k] as SQLiteColumn]));
  const fields: Field[] = Object.entries(columns).map(([key, column]) => ({
    key,
    column,
    decodes: column.mapFromDriverValue !== Column.prototype.mapFromDriverValue,
  }));
  return {
    columns,
    width: fields.length,
    decode(values, offset) {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i] as Field;
        const value = values[offset + i] ?? null;
        row[f.key] = value !== null && f.decodes ? f.column.mapFromDriverValue(value) : value;
      }
      return row as Pick<InferSelectModel<T>, K>;
    },
  };
}
