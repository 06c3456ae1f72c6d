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
  ],
}

export default declaration
