// The platform's SOAP contract as facts read off its published WSDL (service Api, namespace
// http://www.eSignAnyWhere.com/, a public copy in the repository MeatDuckXp/NamirialApiClient):
// its 21 operations and their parameter names, in order. The tests hold wsdl/Api.wsdl and the
// WSDL the gateway serves against it.
export const PLATFORM_OPERATIONS: Record<string, string[]> = {
  UploadTemporarySspFile_v1: ['authorizationXml', 'fileXml'],
  DisposeSspFile_v1: ['authorizationXml', 'sspFileId'],
  GetAdHocWorkstepConfiguration_v1: ['authorizationXml', 'sspFileIds', 'adHocWorkstepConfiguration'],
  PrepareSendEnvelopeSteps_v1: ['authorizationXml', 'sspFileIds', 'adHocWorkstepConfiguration', 'prepareSendEnvelopeStepsDescriptor'],
  DownloadCompletedDocument_v1: ['authorizationXml', 'envelopeId', 'documentId'],
  GetEnvelopeById_v1: ['authorizationXml', 'envelopeId'],
  FindEnvelopes_v1: ['authorizationXml', 'findEnvelopesDescriptorXml'],
  FindEnvelopes_v2: ['authorizationXml', 'findEnvelopesDescriptorXml', 'resultFormat'],
  SendEnvelope_v1: ['authorizationXml', 'sspFileIds', 'envelopeDescriptionXml'],
  SendEnvelopeFromTemplate_v1: ['authorizationXml', 'templateId', 'overrideOptionsXml'],
  SendReminders_v1: ['authorizationXml', 'envelopeId'],
  DeleteEnvelope_v1: ['authorizationXml', 'envelopeId'],
  CancelEnvelope_v1: ['authorizationXml', 'envelopeId'],
  NotifyEnvelopeWorkstepIsCompleted_v1: ['authorizationXml', 'envelopeId', 'workstepId'],
  RestartEnvelope_v1: ['authorizationXml', 'envelopeId', 'expirationInDays'],
  ReplaceRecipient_v1: ['authorizationXml', 'envelopeId', 'recipientOverrideXml'],
  CreateDraft_v1: ['authorizationXml', 'sspFileIds', 'envelopeDescriptionXml', 'draftOptionsXml'],
  CreateDraftFromTemplate_v1: ['authorizationXml', 'templateId', 'overrideOptionsXml', 'draftOptionsXml'],
  UploadUserFile_v1: ['userToken', 'flowFileXml', 'senderApplication'],
  GetVersion_v1: [],
  ValidateAuthorization_v1: ['authorizationXml'],
};
