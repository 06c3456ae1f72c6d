import type { PersonalDataDeclaration } from '#core/personal_data'

/** The carrier, routing and number tables (issue 4); kept apart from the SIP stack's declaration. */
const declaration: PersonalDataDeclaration = {
  module: 'calls.carriers',
  tables: [
    {
      table: 'phone_numbers',
      subject: 'user',
      columns: {
        number: 'phone number; personal once assigned to a user (user_id)',
        user_id: 'the user who holds the number',
        assigned_at: 'when the number was given to the company',
      },
      purpose: 'inbound calls and caller ID',
      legalBasis: 'contract',
      retention:
        'while assigned; releasing a number clears company_id, user_id and assigned_at and the default caller IDs pointing at it (NumberService.release)',
    },
    {
      table: 'default_caller_ids',
      subject: 'user',
      columns: {
        user_id: 'the user',
        phone_number_id: 'the number the user presents by default',
      },
      purpose: 'caller ID chosen by the company admin',
      legalBasis: 'contract',
      retention:
        'until changed, the number is released or deleted, or the user is deleted (foreign keys cascade)',
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
