// Outcomes of store writes that a caller (CLI, settings API) reports to a person, with stable codes.
export class StoreError extends Error {
  constructor(
    readonly code: 'NotFound' | 'Conflict' | 'Invalid',
    message: string,
  ) {
    super(message);
    this.name = `Store${code}`;
  }
}
export const notFound = (what: string) => new StoreError('NotFound', `${what} not found`);
export const conflict = (what: string) => new StoreError('Conflict', `${what} already exists`);
export const invalid = (message: string) => new StoreError('Invalid', message);
