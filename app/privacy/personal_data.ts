import type { PersonalDataDeclaration } from '#core/personal_data'

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
      retention: '12 months after the request was answered (deletion job still to be written, see issue 4 report)',
    },
  ],
}

export default declaration
