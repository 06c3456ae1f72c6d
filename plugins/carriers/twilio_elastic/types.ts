/** What an operator supplies for a Twilio Elastic SIP Trunk; the rest is the carrier's public profile. */
export interface TwilioElasticConfig {
  /** The trunk's termination domain prefix: "<name>.pstn.twilio.com". */
  terminationName: string
  /** Twilio edge location nearest to our SBC ("frankfurt", "dublin", "ashburn"). */
  edge: 'frankfurt' | 'dublin' | 'ashburn'
  /** Our SBC's public addresses as entered in the trunk's IP access control list. */
  sourceAddresses: string[]
}
