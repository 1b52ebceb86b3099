import { type SealedColumn, textColumn } from '@parley/core';

/** The tools lib's sealed columns, for `npm run keys:rotate`. */
export const TOOLS_SEALED_COLUMNS: SealedColumn[] = [textColumn('tools', 'secret_headers')];
