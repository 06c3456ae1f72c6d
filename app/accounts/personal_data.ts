import type { PersonalDataDeclaration } from '#core/personal_data'

/** Audit entries keep the full IP for 7 days, then only its network; entries live 12 months. */
export const AUDIT_IP_FULL_DAYS = 7
export const AUDIT_RETENTION_MONTHS = 12
/** Session-list entries are deleted this many days after the session ended or expired. */
export const WEB_SESSION_RETENTION_DAYS = 7

const declaration: PersonalDataDeclaration = {
  module: 'accounts',
  tables: [
    {
      table: 'users',
      subject: 'user',
      columns: {
        full_name: 'name',
        email: 'email address (login)',
        password: 'password hash (scrypt)',
        locale: 'language preference',
        emergency_street: 'emergency location: street (passed on with 110/112 calls)',
        emergency_postal_code: 'emergency location: postal code',
        emergency_city: 'emergency location: city',
        emergency_country: 'emergency location: country',
        totp_secret: 'two-factor secret (encrypted)',
        recovery_codes: 'two-factor recovery codes (hashed)',
        password_changed_at: 'when the password was last changed',
      },
      purpose: 'customer and staff accounts, login, emergency calls',
      legalBasis: 'contract',
      retention:
        'for the business relationship; deleted with the company 30 days after termination once the final invoice is issued (AccountEndJob, privacy), or earlier by erasure (Art. 17)',
    },
    {
      table: 'companies',
      subject: 'company_contact',
      columns: {
        legal_name: 'company name (may name a sole trader)',
        billing_street: 'billing address',
        billing_postal_code: 'billing address',
        billing_city: 'billing address',
        privacy_contact_name: 'privacy contact: name',
        privacy_contact_email: 'privacy contact: email',
      },
      purpose: 'contract, invoicing, privacy contact',
      legalBasis: 'contract',
      retention:
        'business relationship; at the account end (AccountEndJob, privacy) the names, addresses and privacy contact are blanked; the anonymised row stays while invoices refer to it (8 years, HGB § 257(4), AO § 147(3)) and is deleted with the last one',
    },
    {
      table: 'invitations',
      subject: 'user',
      columns: { email: 'invited email address' },
      purpose: 'invite a colleague to the company account',
      legalBasis: 'contract',
      retention: 'deleted one day after expiry (ExpiredTokensJob)',
    },
    {
      table: 'audit_entries',
      subject: 'user',
      columns: {
        actor_email: 'who acted',
        ip: `IP address, shortened to its network after ${AUDIT_IP_FULL_DAYS} days`,
        details: `what changed (no secrets); the address typed into a failed login is replaced by its domain and a keyed hash after ${AUDIT_IP_FULL_DAYS} days`,
      },
      purpose: 'security of the service (Art. 32 GDPR), proof of changes',
      legalBasis: 'legitimate_interest',
      retention: `${AUDIT_RETENTION_MONTHS} months (AuditRetentionJob)`,
    },
    {
      table: 'web_sessions',
      subject: 'user',
      columns: {
        user_agent: 'browser and system of a logged-in session (shown as e.g. "Chrome on Linux")',
        ip: 'IP address the session was last used from',
        last_used_at: 'when the session was last used',
        sealed_session_id: 'the session id (encrypted), to end the session from another device',
      },
      purpose: "list and end one's logged-in sessions; security of the service (Art. 32 GDPR)",
      legalBasis: 'legitimate_interest',
      retention: `deleted ${WEB_SESSION_RETENTION_DAYS} days after the session ended or expired (WebSessionRetentionJob)`,
    },
    {
      table: 'sessions',
      subject: 'user',
      columns: {
        user_id: 'whose session it is (session store)',
        data: 'session data: the logged-in user, form input and messages of the last request (signed)',
      },
      purpose: 'keeping a browser logged in',
      legalBasis: 'contract',
      retention:
        "deleted when the session ends (logout, revocation) or expires after 8 hours unused (WebSessionRetentionJob, the store's own clean-up)",
    },
  ],
  notPersonal: {
    'roles.name': 'role names such as owner or superadmin',
    'permissions.name': 'permission names',
    'companies.vat_id': 'VAT ID of a company (a legal person)',
    'companies.register_entry': 'commercial register entry of a company',
    'companies.country': 'country of the company',
    'companies.billing_country': 'country of the company',
    'companies.legal_form': 'legal form',
    'invitations.token_hash': 'SHA-256 of the random link token; says nothing about the person',
    'password_reset_tokens.token_hash':
      'SHA-256 of the random link token; says nothing about the person',
    'audit_entries.ip_shortened': 'flag: whether the IP was already shortened',
    'web_sessions.session_digest':
      'SHA-256 of the random session id; says nothing about the person',
    'web_sessions.end_reason': 'why a session ended (logout, revoked, password_changed ...)',
  },
}

export default declaration
