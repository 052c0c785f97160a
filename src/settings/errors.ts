// settings/: the outcomes of settings API requests, each with a stable `code` and status. They
// are web Refusals (GatehouseErrors), so they leave in the gateway's {"ErrorId","Message","SupportId"} body.
import { Refusal } from '../web/error-handler.js';

export class SettingsError extends Refusal {}

export const sessionRequired = () => new SettingsError('SessionRequired', 401, 'Sign in to manage your API tokens.');
export const sessionExpired = () => new SettingsError('SessionExpired', 401, 'Your session has expired; sign in again.');
export const signInFailed = () => new SettingsError('SignInFailed', 401, 'Wrong login name or password.');
export const csrfMissing = () => new SettingsError('CsrfTokenMissing', 403, 'This request needs the X-CSRF-Token header from GET /settings/api/me.');
export const csrfInvalid = () => new SettingsError('CsrfTokenInvalid', 403, 'The X-CSRF-Token header does not match this session.');
export const badRequest = (message: string) => new SettingsError('InvalidRequest', 400, message);
export const notJson = () => new SettingsError('UnsupportedMediaType', 415, 'Send the request body as application/json.');
export const notFound = (what: string) => new SettingsError('NotFound', 404, `No such ${what}.`);
export const conflict = (message: string) => new SettingsError('Conflict', 409, message);
export const linkInvalid = () => new SettingsError('LinkInvalid', 400, 'This set-password link is invalid, already used or expired. Ask for a new one.');
export const sectionDisabled = (reason: string) => new SettingsError('SectionDisabled', 403, reason);
export const notImplemented = (message: string) => new SettingsError('NotImplemented', 501, message);

export class TooManyAttempts extends SettingsError {
  constructor(override readonly retryAfterSeconds: number) {
    super('TooManyAttempts', 429, 'Too many failed attempts; wait a few minutes and try again.');
  }
}
