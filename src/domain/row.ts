/** One row a server answered, by column name, as the driver hands it over (values are strings or null). */
export type Row = Record<string, unknown>;
