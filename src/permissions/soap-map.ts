// permissions/: what each operation of the platform's SOAP API needs, in the one vocabulary
// (vocabulary.ts). The operation set itself comes from the WSDL being served (soap/contract.ts);
// an operation that this table does not name is refused for restricted tokens (fail closed), and
// a test holds every operation of the bundled WSDL to a line here.
import { ANY_TOKEN, type Need } from './vocabulary.js';

const envelope = (access: 'read' | 'write'): Need => ({ family: 'envelope', access });
const draft = (access: 'read' | 'write'): Need => ({ family: 'draft', access });
const file = (access: 'read' | 'write'): Need => ({ family: 'file', access });

export const SOAP_OPERATION_NEEDS: Readonly<Record<string, Need>> = {
  // The credential check: any valid token may ask whether it is valid.
  ValidateAuthorization_v1: ANY_TOKEN,
  // Envelopes: reading them and their documents
  GetEnvelopeById_v1: envelope('read'),
  FindEnvelopes_v1: envelope('read'),
  FindEnvelopes_v2: envelope('read'),
  DownloadCompletedDocument_v1: envelope('read'),
  GetAdHocWorkstepConfiguration_v1: envelope('read'),
  // Envelopes: sending and changing them (preparing the steps of a send is part of sending)
  SendEnvelope_v1: envelope('write'),
  SendEnvelopeFromTemplate_v1: envelope('write'),
  PrepareSendEnvelopeSteps_v1: envelope('write'),
  CancelEnvelope_v1: envelope('write'),
  DeleteEnvelope_v1: envelope('write'),
  RestartEnvelope_v1: envelope('write'),
  ReplaceRecipient_v1: envelope('write'),
  SendReminders_v1: envelope('write'),
  NotifyEnvelopeWorkstepIsCompleted_v1: envelope('write'),
  // Drafts (from a template too: what is written is the draft)
  CreateDraft_v1: draft('write'),
  CreateDraftFromTemplate_v1: draft('write'),
  // Files: temporary (SSP) files and user files
  UploadTemporarySspFile_v1: file('write'),
  DisposeSspFile_v1: file('write'),
  UploadUserFile_v1: file('write'),
};

/** What an operation needs; undefined = not in the vocabulary (restricted tokens are refused). */
export function soapOperationNeed(operation: string): Need | undefined {
  return Object.hasOwn(SOAP_OPERATION_NEEDS, operation) ? SOAP_OPERATION_NEEDS[operation] : undefined;
}
