import type { PersonalDataDeclaration } from '#core/personal_data'

/** Answered information requests are kept this long after the answer, then deleted. */
export const INFORMATION_REQUEST_RETENTION_MONTHS = 12
/** Closed data-subject requests stay as proof of the answer (Art. 5(2) GDPR) for the limitation period. */
export const DATA_SUBJECT_REQUEST_RETENTION_YEARS = 3
/** An export archive can be downloaded this many days, then it is deleted. */
export const EXPORT_ARCHIVE_DAYS = 7
/** A link confirming a new e-mail address works this many hours. */
export const EMAIL_CHANGE_LINK_HOURS = 24
/**
 * A closed breach record stays as the documentation of Art. 33(5) GDPR the authority may inspect.
 * The GDPR names no period; 3 years after closing cover the regular limitation period (§ 195 BGB,
 * claims under Art. 82) and the authority's look-back in practice, then the record goes with its
 * notices. Open records stay.
 */
export const DATA_BREACH_RETENTION_YEARS = 3

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
        'for the business relationship as proof of the agreement; deleted at the account end (AccountEndJob), as the DPA says',
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
    {
      table: 'data_subject_requests',
      subject: 'user',
      columns: {
        user_id: 'the user the request is about, when they have an account',
        subject_name: 'name of the person asking',
        subject_email: 'email address for the answer',
        details: 'what the person asks for, e.g. the reason of an objection',
        outcome: 'the answer given',
        extension_reason: 'why the deadline was extended (Art. 12(3) GDPR)',
      },
      purpose: 'answering data-subject requests (Art. 12, 15-21 GDPR) and proving the answer',
      legalBasis: 'legal_obligation',
      retention: `${DATA_SUBJECT_REQUEST_RETENTION_YEARS} years after the request was closed (DataSubjectRequestRetentionJob); open requests stay until answered`,
    },
    {
      table: 'data_export_archives',
      subject: 'user',
      columns: {
        user_id: 'whose data the archive holds',
        archive: 'the copy of the personal data (zip of JSON and CSV files)',
      },
      purpose: 'the copy of the personal data a user asked for (Art. 15, 20 GDPR)',
      legalBasis: 'legal_obligation',
      retention: `${EXPORT_ARCHIVE_DAYS} days after it was made (DataSubjectRequestRetentionJob), or with the user`,
    },
    {
      table: 'email_change_tokens',
      subject: 'user',
      columns: {
        user_id: 'who asked to change the address',
        new_email: 'the new address, until it is confirmed',
      },
      purpose: 'rectification of the e-mail address, confirmed at the new address (Art. 16 GDPR)',
      legalBasis: 'contract',
      retention: `deleted one day after the link expired (${EMAIL_CHANGE_LINK_HOURS} hours) or was used (DataSubjectRequestRetentionJob), or with the user`,
    },
    {
      table: 'data_breaches',
      subject: 'user',
      columns: {
        nature: 'what happened (free text; may name people concerned)',
        data_concerned: 'the data and people concerned (free text)',
        recorded_by_id: 'the staff member who recorded the breach',
      },
      purpose: 'documenting personal-data breaches and their notification (Art. 33(5) GDPR)',
      legalBasis: 'legal_obligation',
      retention: `${DATA_BREACH_RETENTION_YEARS} years after the record was closed, with its notices (DataSubjectRequestRetentionJob): the Art. 33(5) documentation for the limitation period of § 195 BGB; open records stay`,
    },
    {
      table: 'account_terminations',
      subject: 'user',
      columns: {
        requested_by_id: 'the owner who terminated the account',
        withdrawn_by_id: 'the owner who withdrew the termination',
      },
      purpose: 'ending the contract at the date the owner chose, and proving who did it',
      legalBasis: 'contract',
      retention:
        "with the company row (account end); the owners' references go with the users at account end",
    },
  ],
  notPersonal: {
    'data_export_archives.sha256': 'checksum of the archive',
    'email_change_tokens.token_hash':
      'SHA-256 of the random link token; says nothing about the person',
  },
}

export default declaration
