import type { PersonalDataDeclaration } from '#core/personal_data'

/** The carrier, routing and number tables (issue 4); kept apart from the SIP stack's declaration. */
const declaration: PersonalDataDeclaration = {
  module: 'calls.carriers',
  tables: [
    {
      table: 'phone_numbers',
      subject: 'user',
      columns: { number: 'phone number; personal once assigned to a user (user_id)' },
      purpose: 'inbound calls and caller ID',
      legalBasis: 'contract',
      retention: 'while assigned; releasing a number clears company_id and user_id (no personal data stays attached)',
    },
  ],
  notPersonal: {
    'carrier_states.carrier_name': 'name of a configured carrier (a company), not a person',
    'carrier_routes.carrier_name': 'name of a configured carrier',
    'phone_numbers.carrier_name': 'name of a configured carrier',
    'carrier_objections.carrier_name': 'name of a configured carrier',
    'sub_processor_changes.carrier_name': 'name of a configured carrier',
    'company_notices.carrier_name': 'name of a configured carrier',
  },
}

export default declaration
