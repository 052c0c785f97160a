// Validates real settings API responses against the schemas of the served OpenAPI 3.1 document
// (JSON Schema 2020-12, so Ajv's 2020 draft), and remembers which operations were checked.
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { openApiDocument } from '../../src/settings/openapi.js';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref: string } }> }> }>> };
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule;

export function openApiChecker(doc: unknown = openApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc as object, 'openapi.json');
  const compiled = new Map<string, ValidateFunction>();
  const checked = new Set<string>();
  const paths = (doc as Doc).paths;

  /** Why the response does not match the document, or null when it does. */
  function problem(method: string, template: string, status: number, body: unknown, rawText: string): string | null {
    const op = paths[template]?.[method.toLowerCase()];
    if (!op) return `${method} ${template} is not documented`;
    const response = op.responses[String(status)];
    if (!response) return `${method} ${template} → ${status} is not documented`;
    checked.add(`${method.toUpperCase()} ${template} ${status}`);
    const schema = response.content?.['application/json']?.schema;
    if (!schema) return rawText === '' ? null : `${method} ${template} → ${status} documents no body, got one`;
    let validate = compiled.get(schema.$ref);
    if (!validate) {
      validate = ajv.compile({ $ref: `openapi.json${schema.$ref}` });
      compiled.set(schema.$ref, validate);
    }
    return validate(body) ? null : `${method} ${template} → ${status}: ${ajv.errorsText(validate.errors)}`;
  }

  return { problem, checked };
}
