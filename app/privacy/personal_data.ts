import type { PersonalDataDeclaration } from '#core/personal_data'

/** Answered information requests are kept this long after the answer, then deleted. */
export const INFORMATION_REQUEST_RETENTION_MONTHS = 12

const declaration: PersonalDataDeclaration = {
  module: 'privacy',
  tables: [
    {
      table: 'information_requests',
      subject: 'requester',
      columns: {
        requester_name: 'name of the person asking',
        requester_email: 'email address for the answer',
        organisation: 'organisation named by the requester',
        message: 'free text of the request',
      },
      purpose: 'answering requests for information about sub-processors, TOMs and transfers',
      legalBasis: 'legitimate_interest',
      retention: `${INFORMATION_REQUEST_RETENTION_MONTHS} months after the request was answered (InformationRequestRetentionJob); open requests stay until answered`,
    },
    {
      table: 'dpa_acceptances',
      subject: 'company_contact',
      columns: {
        accepted_by_name: 'name of the owner who accepted the DPA',
        accepted_by_email: 'email address of that owner',
        ip: 'IP address the acceptance came from',
      },
      purpose: 'proof of the data processing agreement (Art. 28(3), (9) GDPR) and its version',
      legalBasis: 'legal_obligation',
      retention:
        'for the business relationship as proof of the agreement; deleted with the company (ON DELETE CASCADE) when its account ends (account end: issue 15, not built yet)',
    },
    {
      table: 'processing_restrictions',
      subject: 'user',
      columns: {
        user_id: 'the user whose processing is restricted (Art. 18 GDPR)',
        ground: 'the ground of Art. 18(1) GDPR',
        note: "the company admin's free-text note",
      },
      purpose: 'honouring and proving restrictions of processing (Art. 18 GDPR)',
      legalBasis: 'legal_obligation',
      retention:
        'while the user exists (deleted with the user, ON DELETE CASCADE); lifted restrictions stay as proof until then',
    },
  ],
}

export default declaration
