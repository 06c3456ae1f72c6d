/*
 * Event listeners across modules are registered here (calls events reach fraud, billing, privacy).
 */
